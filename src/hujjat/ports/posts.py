"""Ports for posts: the repository of chats/posts/versions/media, and a source of post records
(a Telegram export today) that the import service reads without knowing its format."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from hujjat.domain.posts import (
    ChatInfo,
    MediaLocation,
    MediaRef,
    Post,
    PostMedia,
    PostRecord,
    PostVersion,
    SkippedMessage,
)


@dataclass(frozen=True)
class PostState:
    """What an import needs to know about a post already in the archive."""

    post_id: str
    content_hash: str
    version: int
    views: int | None = None
    reactions: Any = None


class PostRepository(Protocol):
    def ensure_chat(self, chat: ChatInfo, at: datetime) -> None:
        """Insert the chat unless known; fill in a username learnt later."""
        ...

    def find(self, chat_key: str, message_ids: list[int]) -> dict[int, PostState]: ...

    def add_posts(self, posts: list[Post], batch: str) -> None: ...

    def add_versions(self, versions: list[PostVersion]) -> None: ...

    def set_current(self, post_id: str, record: PostRecord, version: int) -> None:
        """Point the post at its newest version (the older ones stay in post_versions)."""
        ...

    def set_observations(self, post_id: str, views: int | None, reactions: Any) -> None:
        """Views and reactions as a later export saw them (observations, not a new version)."""
        ...

    def stored_media(self, post_ids: list[str]) -> dict[str, dict[str, str]]:
        """For each post, the media roles that already have stored bytes, with their item ids."""
        ...

    def add_media(self, rows: list[PostMedia], at: datetime) -> list[PostMedia]:
        """Insert rows not yet recorded (PostMedia.dedup_key); return those inserted."""
        ...

    def resolve(self, reference: str) -> Post:
        """By id, unique id prefix, or `<chat key>/<message id>`."""
        ...

    def versions(self, post_id: str) -> list[PostVersion]: ...

    def media(self, post_id: str) -> list[PostMedia]: ...

    def iter_posts(self) -> Iterator[Post]: ...

    def page(self, levels: tuple[str, ...], offset: int, limit: int) -> tuple[list[Post], int]:
        """Posts at `levels` (all when empty), newest first, and how many there are."""
        ...

    def custody_batch(self, post_id: str) -> str | None: ...

    def count(self) -> int: ...


class PostSource(Protocol):
    """An opened export: streams records and resolves media references safely."""

    @property
    def label(self) -> str: ...

    @property
    def result_path(self) -> Path: ...

    @property
    def message_total(self) -> int: ...

    @property
    def repairs(self) -> list[str]: ...

    @property
    def skipped_entries(self) -> list[str]: ...

    def records(self) -> Iterator[PostRecord | SkippedMessage]: ...

    def locate(self, ref: MediaRef) -> MediaLocation: ...
