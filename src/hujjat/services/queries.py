"""Read-side use cases: listing items, one item's full record, and exporting original bytes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hujjat.domain.custody import CustodyEntry
from hujjat.domain.errors import HujjatError, IntegrityError
from hujjat.domain.evidence import Acquisition, EvidenceItem, MetadataRecord
from hujjat.domain.metadata_view import present_metadata
from hujjat.services.context import ArchivePorts
from hujjat.services.dedup_clusters import near_duplicate_summary

CHUNK = 1024 * 1024


def item_summary(item: EvidenceItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "sha256": item.sha256,
        "size": item.size,
        "media_type": item.media_type,
        "created_at": item.created_at.isoformat(),
        "sensitivity": item.sensitivity.value,
    }


def iter_item_summaries(ports: ArchivePorts) -> Iterator[dict[str, Any]]:
    with ports.uow(read_only=True) as tx:
        for item in tx.items.iter_items():
            yield item_summary(item)


def present_records(records: list[MetadataRecord]) -> dict[str, Any]:
    """The newest extraction as shown to people and scripts, with its status and extractor; raw
    tag dumps stay under `raw`."""
    if not records:
        return {"status": "none", "location": None}
    latest = records[-1]
    data = present_metadata(latest.data)
    data.setdefault("location", None)
    data["status"] = latest.status.value
    data["extractor"] = {"name": latest.extractor, "version": latest.version}
    if latest.error:
        data["error"] = latest.error
    return data


def acquisition_view(acq: Acquisition) -> dict[str, Any]:
    return {
        "id": acq.id,
        "acquired_at": acq.acquired_at.isoformat(),
        "actor": acq.actor,
        "source_kind": acq.source_kind,
        "source": acq.source,
        "path": acq.path,
        "original_name": acq.original_name,
        "original_mtime": acq.original_mtime.isoformat() if acq.original_mtime else None,
        "note": acq.note,
    }


def custody_view(entry: CustodyEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "time": entry.time,
        "actor": entry.actor,
        "action": entry.action,
        "details": entry.details,
        "hash": entry.hash,
    }


def item_detail(ports: ArchivePorts, reference: str, custody: bool = True) -> dict[str, Any]:
    """An item's full record; `custody=False` leaves the custody trail out (the web page reads it
    in pages, since views of a restricted item make it grow without bound)."""
    with ports.uow(read_only=True) as tx:
        item = tx.items.resolve(reference)
        detail = item_summary(item)
        detail["metadata"] = present_records(tx.items.metadata(item.id))
        detail["acquisitions"] = [acquisition_view(a) for a in tx.items.acquisitions(item.id)]
        if custody:
            detail["custody"] = [custody_view(e) for e in tx.custody.entries_for([item.id])]
        detail["near_duplicates"] = near_duplicate_summary(tx, item.id)
    return detail


def export_item(ports: ArchivePorts, reference: str, destination: Path) -> dict[str, Any]:
    """Copy the original bytes out, hashing on the way; a mismatch leaves no file behind."""
    with ports.uow(read_only=True) as tx:
        item = tx.items.resolve(reference)
    target = destination / item.id if destination.is_dir() else destination
    if target.exists():
        raise HujjatError(f"{target} exists already; not overwriting it")
    tmp = target.with_name(f".{target.name}.hujjat-part")
    digest = hashlib.sha256()
    try:
        with ports.store.open(item.sha256) as source, tmp.open("xb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != item.sha256:
            raise IntegrityError(
                f"item {item.id}: stored bytes hash to {digest.hexdigest()}, not {item.sha256}; nothing exported"
            )
        tmp.replace(target)
    except FileNotFoundError as exc:
        raise HujjatError(f"cannot export {item.id}: {exc.strerror}: {exc.filename}") from None
    finally:
        tmp.unlink(missing_ok=True)
    with ports.uow() as tx:
        tx.custody.append(
            ports.actor, "item.exported", item.id, {"sha256": item.sha256, "destination": str(target)}
        )
    return {"id": item.id, "sha256": item.sha256, "size": item.size, "destination": str(target)}
