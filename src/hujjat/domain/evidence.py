"""Evidence items, their acquisitions and derived metadata.

An item is one unique byte sequence, named by the SHA-256 of its original bytes whatever form the
store keeps them in (plain today, encrypted later). Every time it comes in is an acquisition, so
deduplication never loses provenance. Metadata is derived, re-derivable, stamped with the extractor
that made it, and a failure is recorded as data rather than raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Sensitivity(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    RESTRICTED = "restricted"


@dataclass(frozen=True)
class EvidenceItem:
    id: str
    sha256: str
    size: int
    media_type: str
    created_at: datetime
    sensitivity: Sensitivity = Sensitivity.INTERNAL


@dataclass(frozen=True)
class Acquisition:
    id: str
    item_id: str
    acquired_at: datetime
    actor: str
    source_kind: str  # "file", later "telegram", "capture", "upload", "bag"
    source: str | None  # the user's --source label, a post id, a capture id...
    path: str | None  # where the bytes were read from
    original_name: str | None
    original_mtime: datetime | None
    note: str | None

    def key(self) -> tuple[object, ...]:
        """What makes a re-run of the same intake 'already present' rather than a new acquisition."""
        mtime = self.original_mtime.isoformat() if self.original_mtime else None
        return (self.item_id, self.source_kind, self.source, self.path, self.original_name, mtime, self.note)


class MetadataStatus(StrEnum):
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class MetadataRecord:
    """What one extractor read from one item's bytes.

    `data` follows one shape for every media kind so scripts need not know the extractor:
    `location` ({latitude, longitude, altitude?} or None), `captured_at` (ISO 8601 or None),
    `width`/`height`, `duration`, `streams`, `camera`, and `raw` holding the unmodified tag dumps.
    """

    extractor: str
    version: str
    status: MetadataStatus
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    created: bool  # False when identical content was already in the store
