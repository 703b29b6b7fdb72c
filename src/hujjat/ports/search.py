"""The search port: what services and entrypoints need from a full-text index, and the text
analysis the index needs from processing (injected by bootstrap, so adapters stay independent of
processing).

Records of every kind (posts, incidents, evidence items, captures) enter the index as a
`SearchDocument`; the index keeps its own tables and is rebuilt from the archive by reindexing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from hujjat.domain.search import Term

FACETS = ("kind", "language", "source", "place", "state", "month")


@dataclass(frozen=True)
class SearchDocument:
    """One searchable record. `text` holds everything to search (title included); `record` is
    what a hit shows of the record (JSON-able). `language` None means: detect it."""

    kind: str
    record_id: str
    text: str
    title: str | None = None
    date: datetime | None = None
    language: str | None = None
    source: str | None = None
    place: str | None = None
    state: str | None = None
    category: str | None = None
    record: dict[str, object] = field(default_factory=dict)


@dataclass
class SearchFilters:
    """Field filters (values of one field are alternatives; fields: kind, type, language, source,
    place, state) and a date range: date_from inclusive, date_before exclusive."""

    include: dict[str, list[str]] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)
    date_from: datetime | None = None
    date_before: datetime | None = None


@dataclass(frozen=True)
class SearchHit:
    kind: str
    record_id: str
    title: str | None
    snippet: str  # HTML: text escaped, matches wrapped in <mark>
    date: datetime | None
    language: str
    source: str | None
    place: str | None
    state: str | None
    category: str | None
    record: dict[str, object]
    score: float | None


@dataclass
class SearchResults:
    """`approximate` True: more records matched than the index counts exactly (see
    docs/search.md), so `total` (when filters apply) and the facet counts are estimates from a
    uniform sample of the matches, and a relevance page is ranked within that sample; shown as
    "about N"."""

    total: int
    hits: list[SearchHit]
    facets: dict[str, list[tuple[str, int]]]
    order: str
    approximate: bool = False


class TextAnalyzer(Protocol):
    def detect_language(self, text: str) -> str: ...

    def index_terms(self, text: str, language: str) -> str:
        """The space-separated index terms of a text in a language."""
        ...

    def query_terms(self, word: str, prefix: bool) -> list[tuple[str, ...]]:
        """For each token of a query word, its alternative terms (one per strategy)."""
        ...

    def snippet(self, text: str, language: str, terms: Sequence[Term], width: int = 240) -> str:
        """An HTML-escaped excerpt of `text` around the first match, matches in <mark>."""
        ...


class SearchIndex(Protocol):
    def upsert(self, document: SearchDocument) -> None:
        """Add or replace the document with this (kind, record_id)."""
        ...

    def upsert_many(self, documents: Sequence[SearchDocument]) -> None:
        """The same for a batch, in one transaction (reindexing, imports)."""
        ...

    def delete(self, kind: str, record_id: str) -> bool: ...

    def clear(self) -> None: ...

    def count(self) -> int: ...

    def indexed(self, kind: str, record_ids: Sequence[str]) -> set[str]:
        """Which of `record_ids` have a document in the index: a resumed import indexes the rest
        (a run killed between committing records and indexing them left them out)."""
        ...

    def search(
        self, query: str, filters: SearchFilters | None = None, order: str = "relevance",
        limit: int = 20, offset: int = 0,
    ) -> SearchResults:
        """Run a query in the query language (domain.search); raise QueryError if it cannot run."""
        ...

    def gather(self, kind: str | None = None, record_ids: Sequence[str] | None = None) -> Iterator[SearchDocument]:
        """The searchable records of the tables other features own that exist in this archive
        (kinds post, capture, incident), of one kind and only `record_ids` when given; evidence
        items are gathered by the service."""
        ...
