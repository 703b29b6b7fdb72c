"""Recent search results of one process, valid for one state of the index.

A search page costs a pass over every match (ranking and six facet counts: 15-20 ms for a word
in 3,000 of 100,000 documents), and the same query is asked again and again: the next page, the
same topic by colleagues, a refresh. Like Solr's queryResultCache or Elasticsearch's request
cache, the answer is kept until the index changes. The index holds a generation number that
every write transaction raises (search_generation, adapters/search/index.py); an entry is served
only for the generation it was computed at, so a write by any process (another web worker, an
import) is seen by the next search. Entries are per process and in memory only, like the pages
SQLite or PostgreSQL already cache; access control is applied above the index, per user, to
cached and fresh results alike (services/access.py).

functools.lru_cache cannot be used: it has no validity check per entry and no bound on the
entries' size (a result holds up to MAX_LIMIT hits with their records).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from hujjat.ports.search import SearchFilters, SearchResults

ENTRIES = 256  # result sets kept per process
HITS = 10_000  # hits kept in all (a web page holds 20; an access-filtered window 200)


def filters_key(filters: SearchFilters | None) -> Hashable:
    """A hashable form of the filters (taken before search() adds the query's own to them)."""
    if filters is None:
        return None
    return (
        tuple(sorted((name, tuple(values)) for name, values in filters.include.items())),
        tuple(sorted((name, tuple(values)) for name, values in filters.exclude.items())),
        filters.date_from,
        filters.date_before,
    )


def copied(results: SearchResults) -> SearchResults:
    """A result whose lists the caller may change without changing the cached one."""
    return SearchResults(
        results.total, list(results.hits), {name: list(values) for name, values in results.facets.items()},
        results.order, results.approximate,
    )


class ResultCache:
    """Least recently used results for the newest generation seen; thread-safe (the web server
    answers from a thread pool)."""

    def __init__(self, entries: int = ENTRIES, hits: int = HITS) -> None:
        self.entries = entries
        self.hits = hits
        self._held: OrderedDict[Hashable, SearchResults] = OrderedDict()
        self._held_hits = 0
        self._generation = -1
        self._lock = threading.Lock()

    def get(self, key: Hashable, generation: int) -> SearchResults | None:
        with self._lock:
            self._advance(generation)
            if generation != self._generation or key not in self._held:
                return None
            self._held.move_to_end(key)
            return copied(self._held[key])

    def put(self, key: Hashable, generation: int, results: SearchResults) -> None:
        """Keep `results`, computed at `generation` or later (the caller read the generation
        before searching, so what it found is at least that new)."""
        if self.entries <= 0 or len(results.hits) > self.hits:
            return
        with self._lock:
            self._advance(generation)
            if generation != self._generation:
                return  # an older generation than another search has seen: never asked for again
            if key in self._held:
                self._held_hits -= len(self._held.pop(key).hits)
            self._held[key] = copied(results)
            self._held_hits += len(results.hits)
            while len(self._held) > self.entries or self._held_hits > self.hits:
                _, dropped = self._held.popitem(last=False)
                self._held_hits -= len(dropped.hits)

    def _advance(self, generation: int) -> None:
        if generation > self._generation:
            self._held.clear()
            self._held_hits = 0
            self._generation = generation
