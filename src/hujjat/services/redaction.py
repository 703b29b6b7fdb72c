"""Recording a redacted derivative: stored like any evidence (its own item, hashed by the store),
acquired with source kind "derivative" from its original, linked in the `derivatives` table and
in the custody log (`item.redacted` on the original, naming the derivative and what was done)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hujjat.domain.errors import IntegrityError
from hujjat.domain.evidence import EvidenceItem
from hujjat.ports.protection import Derivative
from hujjat.services.context import ArchivePorts
from hujjat.services.intake import IntakeRequest, record_blob


@dataclass(frozen=True)
class DerivativeRecord:
    id: str
    sha256: str
    size: int
    media_type: str
    created: bool


def find_item(ports: ArchivePorts, reference: str) -> EvidenceItem:
    with ports.uow(read_only=True) as tx:
        return tx.items.resolve(reference)


def record_derivative(
    ports: ArchivePorts, original: EvidenceItem, file_path: Path, operations: dict[str, Any]
) -> DerivativeRecord:
    with file_path.open("rb") as handle:
        blob = ports.store.put(handle)
    outcome = record_blob(
        ports,
        blob,
        IntakeRequest(source_kind="derivative", source=original.id, note="redacted derivative"),
        path=None,
        name=f"redacted-{original.id}{file_path.suffix}",
        mtime=None,
        fallback=file_path,
    )
    if outcome.status == "failed":
        raise IntegrityError(f"the redacted copy could not be recorded: {outcome.message}")
    with ports.uow() as tx:
        item = tx.items.get_by_sha256(blob.sha256)
        if item is None:  # pragma: no cover - record_blob just added it
            raise IntegrityError("the redacted copy vanished while being recorded")
        if tx.protection.original_of(item.id) is None:
            tx.protection.add_derivative(Derivative(item.id, original.id, operations, ports.clock.now()))
        tx.custody.append(
            ports.actor,
            "item.redacted",
            original.id,
            {"derivative_id": item.id, "derivative_sha256": item.sha256, "operations": operations},
        )
    return DerivativeRecord(item.id, item.sha256, item.size, item.media_type, blob.created)


def redacted_derivative(ports: ArchivePorts, original_id: str) -> str | None:
    """The newest redacted derivative of an item (what a public export publishes), or None."""
    with ports.uow(read_only=True) as tx:
        derived = tx.protection.derivatives_of(original_id)
    return derived[-1].derivative_id if derived else None
