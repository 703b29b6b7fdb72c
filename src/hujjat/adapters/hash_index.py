"""The near-duplicate hash index: exact Hamming-radius search over 256-bit PDQ hashes with faiss.

Multi-index hashing (Norouzi et al.), as implemented by faiss's IndexBinaryMultiHash: each hash is
cut into `nhash` substrings of `b` bits, each substring keyed in its own hash table. By the
pigeonhole principle two hashes within distance r agree, in at least one substring, up to
`nflip` bits whenever r < nhash * (nflip + 1); so probing every key within `nflip` bit flips of
each query substring finds *every* neighbour within r, then the full distances are checked.
`nflip` is chosen per search from the radius asked, so the search stays exact for any radius.
With the defaults (11 x 23 bits) a radius of 32 needs nflip=2: about 3,000 table probes per query
whatever the archive's size -- not a linear scan.

Persistence: one file, `<archive>/index/pdq-hashes.npz` (row ids and codes), written atomically;
the hash tables are rebuilt from it on load (faiss 1.15's write_index_binary does not keep a
MultiHash's tables: a reloaded index silently missed entries). The size and highest id held are
compared with the database on every search; the service adds what is missing or rebuilds when
stale, so a deleted or damaged file only costs a rebuild.
Saving a large index costs seconds, so saves of big indexes are rate-limited: rows added since the
last save are simply read again from the database next time.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hujjat.domain.near_duplicates import HASH_BITS

log = logging.getLogger(__name__)

INDEX_DIR = "index"
INDEX_FILE = "pdq-hashes.npz"
NHASH = 11
SUBSTRING_BITS = 23
# The saved index is a cache of the database's hashes: a copy that lags is caught up with one
# range query on open (services.dedup.sync_index). Writing it after every fingerprint made
# imports quadratic (the whole index, fsynced, per item), so saves are throttled and forced when
# the archive closes.
SAVE_EVERY_S = 10.0
# Below this many hashes a flat scan beats the hash tables: measured here (one thread, radius 31,
# 4-hash queries, random hashes) flat 0.10 / 0.71 / 2.9 ms against multi-index hashing 0.88 /
# 1.97 / 2.8 ms at 10,000 / 100,000 / 300,000 hashes; similar real images crowd the tables'
# buckets and make the hashed search slower still. Both searches are exact.
FLAT_UP_TO = 200_000


def _faiss() -> Any:
    """faiss, imported on first use so opening an archive stays quick.

    OpenMP is limited to one thread: every search here is a handful of hashes, and faiss's
    parallel loop over them cost more than it saved. Measured on the 2-core machine while the
    intake workers ran: 17.8 ms wall (6 ms CPU) per 4-hash range search with 2 OpenMP threads,
    0.5 ms (0.23 ms CPU) with one."""
    import faiss

    if faiss.omp_get_max_threads() != 1:
        faiss.omp_set_num_threads(1)
    return faiss


def _numpy() -> Any:
    import numpy

    return numpy


def hashes_to_array(hashes: Sequence[str]) -> Any:
    """Hex hashes as an (n, 32) uint8 array, the layout faiss binary indexes take."""
    np = _numpy()
    if not hashes:
        return np.zeros((0, HASH_BITS // 8), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8).reshape(len(hashes), HASH_BITS // 8)


def flips_for(radius: int, nhash: int) -> int:
    """The fewest bit flips per substring that keeps a search of `radius` exact."""
    return max(0, -(-(radius + 1) // nhash) - 1)


class FaissHashIndex:
    def __init__(self, folder: Path | None, nhash: int = NHASH, bits: int = SUBSTRING_BITS) -> None:
        self.path = folder / INDEX_FILE if folder is not None else None
        self.nhash, self.bits = nhash, bits
        self._index: Any = None
        self._last_id = 0
        self._last_save = 0.0
        self._dirty = False
        self._lock = threading.Lock()

    def _empty(self, hashed: bool = False) -> Any:
        faiss = _faiss()
        if hashed:
            inner = faiss.IndexBinaryMultiHash(HASH_BITS, self.nhash, self.bits)
        else:
            inner = faiss.IndexBinaryFlat(HASH_BITS)
        index = faiss.IndexBinaryIDMap(inner)
        index.own_fields = True
        inner.this.disown()
        return index

    def _loaded(self) -> Any:
        if self._index is None:
            stored = self._read()
            self._index = self._empty(hashed=stored is not None and len(stored[0]) > FLAT_UP_TO)
            self._last_id = 0
            if stored is not None:
                ids, codes = stored
                self._index.add_with_ids(codes, ids)
                self._last_id = int(ids.max()) if len(ids) else 0
            self._last_save = time.monotonic()
        return self._index

    def _contents(self) -> tuple[Any, Any]:
        """(ids, codes) held by the current index, flat or hashed."""
        faiss = _faiss()
        inner = faiss.downcast_IndexBinary(self._index.index)
        stored = inner.storage.xb if isinstance(inner, faiss.IndexBinaryMultiHash) else inner.xb
        return faiss.vector_to_array(self._index.id_map), faiss.vector_to_array(stored).reshape(-1, HASH_BITS // 8)

    def _hashed(self, index: Any) -> bool:
        return isinstance(_faiss().downcast_IndexBinary(index.index), _faiss().IndexBinaryMultiHash)

    def _read(self) -> tuple[Any, Any] | None:
        """(ids, codes) from the saved file; None when absent or unreadable (then rebuilt)."""
        np = _numpy()
        if self.path is None or not self.path.exists():
            return None
        try:
            with np.load(self.path, allow_pickle=False) as data:
                ids, codes = data["ids"].astype(np.int64), data["codes"].astype(np.uint8)
            if codes.ndim != 2 or codes.shape[1] != HASH_BITS // 8 or len(ids) != len(codes):
                raise ValueError("unexpected array shapes")
            return ids, np.ascontiguousarray(codes)
        except (OSError, ValueError, KeyError, EOFError) as exc:
            log.warning("hash index %s unreadable (%s); it will be rebuilt", self.path, exc)
            return None

    def synced_to(self) -> tuple[int, int]:
        with self._lock:
            index = self._loaded()
            return int(index.ntotal), self._last_id

    def add(self, ids: Sequence[int], hashes: Sequence[str]) -> None:
        np = _numpy()
        if not ids:
            return
        with self._lock:
            index = self._loaded()
            index.add_with_ids(hashes_to_array(hashes), np.asarray(ids, dtype=np.int64))
            if index.ntotal > FLAT_UP_TO and not self._hashed(index):  # grown past the flat scan's range
                held_ids, codes = self._contents()
                self._index = self._empty(hashed=True)
                self._index.add_with_ids(np.ascontiguousarray(codes), held_ids)
            self._last_id = max(self._last_id, max(ids))
            self._dirty = True

    def reset(self) -> None:
        with self._lock:
            self._index = self._empty()
            self._last_id = 0
            self._dirty = True

    def search(self, hashes: Sequence[str], max_distance: int) -> list[list[tuple[int, int]]]:
        faiss = _faiss()
        if not hashes:
            return []
        with self._lock:
            index = self._loaded()
            if index.ntotal == 0:
                return [[] for _ in hashes]
            if self._hashed(index):
                faiss.downcast_IndexBinary(index.index).nflip = flips_for(max_distance, self.nhash)
            lims, dist, labels = index.range_search(hashes_to_array(hashes), max_distance + 1)
        return [
            [(int(labels[j]), int(dist[j])) for j in range(int(lims[i]), int(lims[i + 1]))]
            for i in range(len(hashes))
        ]

    def save(self, force: bool = False) -> None:
        with self._lock:
            if self.path is None or self._index is None or not self._dirty:
                return
            if not force and time.monotonic() - self._last_save < SAVE_EVERY_S:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            np = _numpy()
            ids, codes = self._contents()
            try:
                with tmp.open("wb") as handle:
                    np.savez(handle, ids=ids, codes=codes)
                    handle.flush()
                    os.fsync(handle.fileno())
                tmp.replace(self.path)
            finally:
                tmp.unlink(missing_ok=True)
            self._dirty = False
            self._last_save = time.monotonic()
