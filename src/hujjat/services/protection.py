"""Crypto-shredding: destroying an item's data key so its bytes can never be read again.

Used when a witness withdraws consent or the material endangers someone. In one transaction the
item's wrapped data key is overwritten and cleared, what was extracted from its bytes (metadata
records: EXIF, GPS, ...) is deleted, and a custody entry records who shredded what and why. The
search index entry goes right after. The item row, its custody history and the ciphertext stay, so
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
    if not isinstance(ports.store, EncryptingStore):
        raise UsageError("shredding needs an encrypted archive: run `hujjat encrypt` first")
    with ports.uow() as tx:
        item = tx.items.resolve(reference)
        if not tx.protection.shred_key(item.sha256, ports.clock.now()):
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
    remove_record(ports, "evidence", item.id)
    return ShredResult(item.id, item.sha256, removed, derived)
