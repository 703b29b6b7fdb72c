"""Ports for near-duplicate detection: the fingerprint records, the hash index, the fingerprinter.

The repository holds the truth (fingerprints and recorded matches in the database); the index is a
derived, rebuildable structure for fast Hamming-radius search, kept under the archive folder and
brought up to date from the repository (ids are the repository's hash row ids).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from hujjat.domain.near_duplicates import DedupSettings, Fingerprint, NearMatch


@dataclass(frozen=True)
class MediaRef:
    item_id: str
    sha256: str
    media_type: str


class FingerprintRepository(Protocol):
    def save(self, item_id: str, fingerprint: Fingerprint, at: datetime) -> None:
        """Store (or replace) the item's fingerprint and its frame hashes."""
        ...

    def get_many(self, item_ids: Sequence[str]) -> dict[str, Fingerprint]: ...

    def owners(self, hash_ids: Sequence[int]) -> dict[int, str]:
        """Item id for each hash row id."""
        ...

    def iter_hashes(self, after_id: int, min_quality: int) -> Iterator[tuple[int, str]]:
        """(row id, hash) of indexable hashes with id > after_id, in id order."""
        ...

    def iter_frames(self, min_quality: int) -> Iterator[tuple[int, str, str, str]]:
        """(row id, item id, hash, mirrored hash) of every indexable hash."""
        ...

    def post_appearances(self, item_ids: Sequence[str]) -> dict[str, list[tuple[str, int, datetime | None]]]:
        """(chat, message id, post date) of the posts that carried each item, where posts exist."""
        ...

    def hash_stats(self, min_quality: int) -> tuple[int, int]:
        """(count, highest row id) of indexable hashes."""
        ...

    def unfingerprinted(self) -> list[MediaRef]:
        """Images and videos that have no fingerprint yet."""
        ...

    def problems(self) -> list[tuple[MediaRef, str, str]]:
        """(item, status, reason) for every fingerprint that is not usable."""
        ...

    def add_match(self, match: NearMatch, via: str, at: datetime) -> bool:
        """Record a pair unless it (in either order) is recorded already."""
        ...

    def matches_for(self, item_id: str) -> list[NearMatch]:
        """Recorded matches involving the item, in either role."""
        ...


class HashIndex(Protocol):
    """Fixed-radius Hamming search over 256-bit hashes, keyed by repository row id."""

    def synced_to(self) -> tuple[int, int]:
        """(number of hashes held, highest row id held)."""
        ...

    def add(self, ids: Sequence[int], hashes: Sequence[str]) -> None: ...

    def reset(self) -> None: ...

    def search(self, hashes: Sequence[str], max_distance: int) -> list[list[tuple[int, int]]]:
        """For each query, every (row id, distance) with distance <= max_distance."""
        ...

    def save(self) -> None: ...


class Fingerprinter(Protocol):
    settings: DedupSettings
    index: HashIndex

    def compute(self, path: Path, media_type: str) -> Fingerprint | None:
        """The fingerprint of an image or video (failures as data); None for other media."""
        ...

    def exclusive(self) -> AbstractContextManager[None]:
        """Serialises sync-search-record sequences between threads of one process."""
        ...
