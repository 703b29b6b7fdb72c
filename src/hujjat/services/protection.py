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
    derivatives: list[str]


def shred_item(ports: ArchivePorts, reference: str, reason: str) -> ShredResult:
    if not reason.strip():
        raise UsageError("say why the item is shredded (--reason)")
    store = ports.store
    if not isinstance(store, EncryptingStore):
        raise UsageError("shredding needs an encrypted archive: run `hujjat encrypt` first")
    with ports.uow() as tx:
        item = tx.items.resolve(reference)
        if item.sha256 in store.shredded():
            raise UsageError(f"item {item.id} is already shredded")
        removed = tx.protection.scrub_item(item.id)
        derived = [d.derivative_id for d in tx.protection.derivatives_of(item.id)]
        tx.custody.append(
            ports.actor,
            "item.shredded",
            item.id,
            {
                "sha256": item.sha256,
                "reason": reason.strip(),
                "metadata_records_removed": removed,
                "derivatives_kept": derived,
            },
        )
    # Logged first, then done: an interrupted shred leaves the intent on record, and running the
    # command again destroys the key (`verify` names any logged shred whose key still exists).
    store.shred(item.sha256)
    remove_record(ports, "evidence", item.id)
    return ShredResult(item.id, item.sha256, removed, derived)
