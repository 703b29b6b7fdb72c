"""Ports for near-duplicate detection: the fingerprint records, the hash index, the fingerprinter.

The repository holds the truth (fingerprints and recorded matches in the database); the index is a
derived, rebuildable structure for fast Hamming-radius search, kept under the archive folder and
brought up to date from the repository. Index keys come from the repository: 2 * hash row id for a
whole picture, 2 * row id + 1 for its centre hash.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

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

    def save_many(self, entries: Sequence[tuple[str, Fingerprint]], at: datetime) -> None:
        """`save` for many items at once."""
        ...

    def get_many(self, item_ids: Sequence[str]) -> dict[str, Fingerprint]: ...

    def owners(self, keys: Sequence[int]) -> dict[int, str]:
        """Item id for each index key (2 * hash row id, + 1 for a centre hash)."""
        ...

    def iter_hashes(self, after_key: int, min_quality: int) -> Iterator[tuple[int, str]]:
        """(index key, hash) of indexable hashes with key > after_key, in key order."""
        ...

    def iter_frames(self, min_quality: int, after_key: int = -1) -> Iterator[tuple[int, str, str, str]]:
        """(index key, item id, hash, mirrored hash) of every indexable hash, centres included."""
        ...

    def post_appearances(self, item_ids: Sequence[str]) -> dict[str, list[tuple[str, int, datetime | None]]]:
        """(chat, message id, post date) of the posts that carried each item, where posts exist."""
        ...

    def hash_stats(self, min_quality: int) -> tuple[int, int]:
        """(count, highest index key) of indexable hashes."""
        ...

    def unfingerprinted(self, everything: bool = False) -> list[MediaRef]:
        """Images and videos that have no fingerprint yet (all of them with `everything`)."""
        ...

    def problems(self) -> list[tuple[MediaRef, str, str]]:
        """(item, status, reason) for every fingerprint that is not usable."""
        ...

    def add_match(self, match: NearMatch, via: str, at: datetime) -> bool:
        """Record a pair unless it (in either order) is recorded already."""
        ...

    def iter_match_pairs(self) -> Iterator[tuple[str, str]]:
        """(item id, other id) of every recorded match."""
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

    def save(self, force: bool = False) -> None:
        """Persist the index: at most every few seconds unless forced (it is derived data,
        caught up from the database when a saved copy lags)."""
        ...


class Fingerprinter(Protocol):
    settings: DedupSettings
    index: HashIndex

    def compute(self, path: Path | BinaryIO, media_type: str) -> Fingerprint | None:
        """The fingerprint of an image or video, from a file or a seekable stream (failures as
        data); None for other media."""
        ...

    def exclusive(self) -> AbstractContextManager[None]:
        """Serialises sync-search-record sequences between threads of one process."""
        ...
