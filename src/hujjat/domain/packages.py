"""Records about packages and trusted timestamps: what was exported, imported and time-stamped.

A trusted timestamp (RFC 3161 token) proves that some bytes existed at a time vouched for by an
outside authority; here those bytes are a signed custody checkpoint's message or a package's tag
manifest. An imported package keeps the sender's custody excerpt and signature verbatim, so the
provenance chain of evidence received from another organisation can be re-checked later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PACKAGE_FORMAT = "hujjat-package/1"


@dataclass(frozen=True)
class TimestampRecord:
    id: str
    subject_kind: str  # "checkpoint" or "package"
    subject: str  # checkpoint seq, or the package's tag-manifest SHA-256
    message_sha256: str  # SHA-256 of the exact bytes that were time-stamped
    message: bytes  # those bytes (a checkpoint message or a tag manifest: small)
    tsa_url: str
    token: bytes
    chain_pem: bytes
    gen_time: str
    tsa: str | None
    created_at: datetime


@dataclass(frozen=True)
class ImportedEntry:
    """One custody entry of another archive, byte for byte as that archive hashed it."""

    seq: int
    hash: str
    body: str


@dataclass(frozen=True)
class ImportedPackage:
    id: str
    external_identifier: str
    source_archive: str
    key_id: str
    public_key_pem: str
    tagmanifest_sha256: str
    signature: bytes
    verified: bool
    forced: bool
    problems: list[str]
    bag_info: list[list[str]]
    imported_at: datetime
    actor: str
    entries: list[ImportedEntry] = field(default_factory=list)
    items: list[tuple[str, str]] = field(default_factory=list)  # (item id, path in the package)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "external_identifier": self.external_identifier,
            "source_archive": self.source_archive,
            "key_id": self.key_id,
            "tagmanifest_sha256": self.tagmanifest_sha256,
            "verified": self.verified,
            "forced": self.forced,
            "problems": list(self.problems),
            "entries": len(self.entries),
            "items": len(self.items),
        }
