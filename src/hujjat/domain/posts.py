"""Posts: messages read from a messaging export (Telegram today), their versions and media.

A post is one message of one chat, identified by (chat key, message id). Its content (text,
entities, media identity) is hashed; an export that shows different content for a known post adds
a new version and keeps the old text. Views and reactions are observations, not content: they are
kept as first seen and never make a new version. Dates are explicit about time zones: `date_utc`
only when the export says what UTC time it was (`date_unixtime`); `date_local` is the exporter's
wall-clock text, whose offset is often unknown.

Stdlib only: the rules here are pure, so readers, services and tests share them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from hujjat.domain.canonical import canonical_bytes, sha256_hex
from hujjat.domain.evidence import Sensitivity

PUBLIC_CHAT_TYPES = frozenset({"public_channel", "public_supergroup"})


class PostKind(StrEnum):
    MESSAGE = "message"
    SERVICE = "service"
    UNSUPPORTED = "unsupported"


class MediaStatus(StrEnum):
    STORED = "stored"  # bytes are in the evidence store (item_id set)
    NOT_EXPORTED = "not_exported"  # the export holds a placeholder instead of the file
    MISSING = "missing"  # a path is given but nothing is there
    REFUSED = "refused"  # the path escapes the export folder, or is not a regular file
    FAILED = "failed"  # reading it failed (I/O error)


@dataclass(frozen=True)
class ChatInfo:
    """A chat as an export describes it. `key` is stable across exporter versions
    (e.g. `channel1292077344`), `raw_id` is the number the export wrote."""

    key: str
    raw_id: int | None
    name: str | None
    type: str
    username: str | None = None

    @property
    def public(self) -> bool:
        return self.type in PUBLIC_CHAT_TYPES and bool(self.username)


@dataclass(frozen=True)
class MediaRef:
    """A file a message refers to: `path` relative to the export folder, or `placeholder` holding
    the exporter's "(File not included…)" text instead."""

    role: str  # photo | file | thumbnail | contact_vcard | profile photo ...
    path: str | None
    placeholder: str | None = None
    media_type: str | None = None  # video_file, voice_message, sticker, ... (None: generic file/photo)
    mime_type: str | None = None
    file_name: str | None = None
    declared_size: int | None = None
    width: int | None = None
    height: int | None = None
    duration_seconds: int | None = None

    def identity(self) -> dict[str, Any]:
        """What makes two references 'the same media' across exports (never the path: photo
        file names carry a running counter that differs between exports)."""
        return {
            "role": self.role,
            "media_type": self.media_type,
            "mime_type": self.mime_type,
            "file_name": self.file_name,
            "width": self.width,
            "height": self.height,
            "duration_seconds": self.duration_seconds,
        }


@dataclass(frozen=True)
class MediaLocation:
    """Where a reference leads: a readable file inside the export (`path`), or why not
    (`status` MISSING/REFUSED/NOT_EXPORTED with a `reason`)."""

    path: Path | None
    status: MediaStatus | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SkippedMessage:
    """A message the reader could not turn into a post (e.g. no numeric id), with the reason."""

    json_path: str
    reason: str


@dataclass(frozen=True)
class PostRecord:
    """One message as read from one export, before it meets the archive."""

    chat: ChatInfo
    message_id: int
    kind: PostKind
    json_path: str
    date_utc: datetime | None = None
    date_local: str | None = None
    edited_utc: datetime | None = None
    edited_local: str | None = None
    from_name: str | None = None
    from_id: str | None = None
    signature: str | None = None
    forwarded_from: str | None = None
    saved_from: str | None = None
    reply_to_message_id: int | None = None
    reply_to_peer_id: str | None = None
    via_bot: str | None = None
    action: str | None = None
    text: str = ""
    entities: tuple[dict[str, Any], ...] = ()
    reactions: list[Any] | None = None
    views: int | None = None
    media: tuple[MediaRef, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    repairs: tuple[str, ...] = ()

    @property
    def public_link(self) -> str | None:
        return public_link(self.chat, self.message_id)

    def content_hash(self) -> str:
        cached: str | None = self.__dict__.get("_content_hash")
        if cached is None:
            cached = content_hash(self.text, list(self.entities), [m.identity() for m in self.media])
            object.__setattr__(self, "_content_hash", cached)
        return cached


def public_link(chat: ChatInfo, message_id: int) -> str | None:
    if not chat.public:
        return None
    return f"https://t.me/{chat.username}/{message_id}"


def content_hash(text: str, entities: list[dict[str, Any]], media: list[dict[str, Any]]) -> str:
    """SHA-256 over what an edit can change: text, entities and which media are attached."""
    # canonical JSON (sorted keys, no whitespace, raw UTF-8); the values come from readers that
    # already turned every fractional number into a string, so the float check is skipped here
    document = {"text": text, "entities": entities, "media": media}
    return sha256_hex(json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


@dataclass(frozen=True)
class PostVersion:
    post_id: str
    version: int
    text: str
    entities: list[dict[str, Any]]
    content_hash: str
    edited_utc: datetime | None
    edited_local: str | None
    source_export: str | None  # sha256 of the result.json this version was read from
    json_path: str
    recorded_at: datetime


@dataclass(frozen=True)
class Post:
    """A stored post: the record's fields plus the archive's own (id, versions, provenance)."""

    id: str
    record: PostRecord
    version: int
    source_export: str | None  # sha256 of the result.json that first held it
    source_item_id: str | None  # evidence item of that result.json
    created_at: datetime
    sensitivity: Sensitivity = Sensitivity.INTERNAL  # like items: internal unless someone changes it


@dataclass(frozen=True)
class PostMedia:
    post_id: str
    role: str
    status: MediaStatus
    ref: MediaRef
    item_id: str | None = None
    sha256: str | None = None
    size: int | None = None
    reason: str | None = None

    def dedup_key(self) -> str:
        """One row per (post, role, content): stored bytes by hash, absences by their status."""
        what = (
            self.sha256 if self.status is MediaStatus.STORED else f"{self.status.value}:{self.ref.file_name}"
        )
        return sha256_hex(canonical_bytes([self.post_id, self.role, what]))
