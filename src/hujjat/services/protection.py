"""Crypto-shredding: destroying an item's data key so its bytes can never be read again.

Used when a witness withdraws consent or the material endangers someone. In one archive
transaction what was extracted from its bytes (metadata records: EXIF, GPS, ...) is deleted and a
custody entry records who shredded what and why; then the store destroys the wrapped data key
(keys/blob-keys.db) and the search index entry goes. The item row, its custody history and the ciphertext stay, so
`verify` can still prove the log and report the item as shredded rather than missing or tampered.
"""

from __future__ import annotations

from dataclasses import dataclass

from hujjat.domain.errors import UsageError
from hujjat.ports.protection import EncryptingStore
from hujjat.services.context import ArchivePorts
from hujjat.services.search import remove_record


@dataclass(frozen=True)
class ShredResult:
    item_id: str
    sha256: str
    metadata_records_removed: int
    derivatives_shredded: list[str]
    derivatives_kept: list[str]


def shred_item(
    ports: ArchivePorts, reference: str, reason: str, keep_derivatives: bool = False
) -> ShredResult:
    """Shred an item and (unless `keep_derivatives`) its redacted derivatives, each with its own
    custody entry; derivatives already shredded are skipped."""
    if not reason.strip():
        raise UsageError("say why the item is shredded (--reason)")
    store = ports.store
    if not isinstance(store, EncryptingStore):
        raise UsageError("shredding needs an encrypted archive: run `hujjat encrypt` first")
    already = store.shredded()
    with ports.uow() as tx:
        item = tx.items.resolve(reference)
        if item.sha256 in already:
            raise UsageError(f"item {item.id} is already shredded")
        derived = [d.derivative_id for d in tx.protection.derivatives_of(item.id)]
        targets = [(item, reason.strip())]
        if not keep_derivatives:
            for derivative_id in derived:
                child = tx.items.get(derivative_id)
                if child is not None and child.sha256 not in already:
                    targets.append((child, f"derivative of {item.id}, shredded with it: {reason.strip()}"))
        removed = 0
        for target, why in targets:
            scrubbed = tx.protection.scrub_item(target.id)
            removed += scrubbed
            tx.custody.append(
                ports.actor,
                "item.shredded",
                target.id,
                {
                    "sha256": target.sha256,
                    "reason": why,
                    "metadata_records_removed": scrubbed,
                    "derivatives_kept": derived if keep_derivatives and target is item else [],
                },
            )
    # Logged first, then done: an interrupted shred leaves the intent on record, and running the
    # command again destroys the key (`verify` names any logged shred whose key still exists).
    for target, _why in targets:
        store.shred(target.sha256)
        remove_record(ports, "evidence", target.id)
    shredded = [t.id for t, _ in targets[1:]]
    return ShredResult(item.id, item.sha256, removed, shredded, derived if keep_derivatives else [])
