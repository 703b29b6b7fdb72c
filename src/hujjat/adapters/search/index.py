"""The SQL search index (ports.search.SearchIndex) on SQLite FTS5 or PostgreSQL full-text search.

Analysis (language, terms, snippets) is done by the injected TextAnalyzer, the same for both
backends; this module writes rows, builds filters and facets with SQLAlchemy Core (bound
parameters only), and leaves the match itself to the backend.

Cost grows with the number of matches, so a search first counts the full-text matches (cheap,
in the engine). Up to `exact_limit` matches, the six facet counts and the page (BM25 order)
are two exact statements over every match. Above it, ranking and
facets come from a uniform sample of about `sample_size` matches (BM25 is computed for those
only), counts are scaled and the results are marked approximate; the total stays exact when no
filter applies. A newest-first page is exact at any size on SQLite, where document ids are date
keys (date_key) so FTS5 streams matches newest first and stops after the page. On SQLite a word
whose passes would iterate LARGE documents is sampled by time windows (sample_windows) that FTS5
seeks to, and the sample is ranked in Python (backends.Bm25). Results are kept per process until
the index changes (result_cache.py): every write raises the index's generation.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from hujjat.adapters.db.search_tables import search_documents as docs
from hujjat.adapters.db.search_tables import search_generation as generation
from hujjat.adapters.db.search_tables import search_texts as texts
from hujjat.adapters.search.backends import Fts5Backend, backend_for, sample_stride
from hujjat.adapters.search.result_cache import ENTRIES, ResultCache, filters_key
from hujjat.adapters.search.sources import gather_documents, indexed_ids, withheld_records
from hujjat.domain.errors import ArchiveError, UsageError
from hujjat.domain.search import (
    KINDS,
    Node,
    QueryError,
    analyse_tree,
    check_runnable,
    parse_query,
    positive_terms,
)
from hujjat.ports.search import (
    FACETS,
    SearchDocument,
    SearchFilters,
    SearchHit,
    SearchResults,
    TextAnalyzer,
)

ORDERS = ("relevance", "date")
MAX_LIMIT = 1000
BATCH = 5000  # documents per write transaction: FTS5 writes a segment (and merges) at each commit
BULK = 1000  # an upsert of at least this many documents may refresh the planner's statistics
_TEXT_IS_BODY = "_text_is_body"
EXACT_LIMIT = 5_000  # up to this many full-text matches, ranking and counts are exact
SAMPLE_SIZE = 1_500  # above it, about this many matches are ranked and counted
NEWEST_EXTRA = 20  # rows read past a newest-first page, to hold the rest of its last second
PILOT = 200  # newest matches read on SQLite to estimate how many there are
PAGE_CACHE_KIB = 32_768  # SQLite page cache of a searching connection (grows only as pages are read)
KEY_SHIFT = 28  # date keys: (seconds since 1970 + EPOCH_OFFSET) << KEY_SHIFT | sequence number
SEQUENCE_LIMIT = 1 << KEY_SHIFT
EPOCH_OFFSET = 1 << 33
WINDOWS = 64  # SQLite samples from at least this many time windows (a whole number per month)
MAX_WINDOWS = 256  # more months than this: sampled by a modulo over every match instead
BURST = 8  # a window with this many times the average window's documents (plus as many) holds a burst
LARGE = 100_000  # SQLite: when a pass over the matches or BM25's IDF would iterate this many
# documents, sample by time windows and rank in Python; below, FTS5's passes cost less


def date_key(date: datetime | None, sequence: int) -> int:
    """The SQLite document id: ordered like (date to the second, then insertion), undated
    documents below every dated one, so that id order is newest-first order ("nulls last").
    Unique because the sequence number is (search_sequence); dates outside about
    year 1700-2786 share the first or last second, which only costs the fast path its speed."""
    if date is None:
        return sequence
    seconds = calendar.timegm(date.astimezone(UTC).timetuple())
    seconds = max(1 - EPOCH_OFFSET, min(seconds, 3 * EPOCH_OFFSET - 1))
    return ((seconds + EPOCH_OFFSET) << KEY_SHIFT) | sequence


def sample_windows(oldest: int, newest: int, stride: int) -> list[tuple[int, int, int]] | None:
    """SQLite's sample of one in `stride` documents as date-key ranges (first, last, stride within):
    every calendar month (UTC) from the oldest to the newest dated document gets the same number
    of windows, each covering 1/`stride` of its slot of the month at a pseudo-random place (the
    same for the same stride, so that pages of one query agree), so every month, and the whole
    period, is sampled in the same proportion; undated documents (ids below SEQUENCE_LIMIT) by
    the modulo. FTS5 seeks to each window and streams only its matches, instead of passing over
    every match, and the sampled rows sit together in the document table. None when the
    documents span more than MAX_WINDOWS months."""
    first = datetime.fromtimestamp((oldest >> KEY_SHIFT) - EPOCH_OFFSET, UTC)
    last = datetime.fromtimestamp((newest >> KEY_SHIFT) - EPOCH_OFFSET, UTC)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months > MAX_WINDOWS or stride <= 1:
        return None
    per = -(-WINDOWS // months)  # windows per month
    rng = random.Random(stride)  # noqa: S311 (where a window lies in its slot, not a secret)
    windows = [(0, SEQUENCE_LIMIT - 1, stride)]
    for n in range(months):
        year, month = divmod(first.month - 1 + n, 12)
        start = date_key(datetime(first.year + year, month + 1, 1, tzinfo=UTC), 0)
        year, month = divmod(first.month + n, 12)
        slot = (date_key(datetime(first.year + year, month + 1, 1, tzinfo=UTC), 0) - start) // per
        width = max(1, slot // stride)
        for k in range(per):
            begin = start + k * slot + rng.randrange(max(1, slot - width))
            windows.append((begin, begin + width - 1, 1))
    return windows


def _second(key: int) -> tuple[int, int]:
    """The id range [first, last] of the second (or, undated, the single key) `key` falls in."""
    if key < SEQUENCE_LIMIT:
        return key, key
    first = (key >> KEY_SHIFT) << KEY_SHIFT
    return first, first + SEQUENCE_LIMIT - 1


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _facet_value(column: sa.ColumnElement[Any], value: str) -> sa.ColumnElement[bool]:
    """ASCII values match without regard to case on both backends; others exactly (SQLite's
    lower() folds ASCII only, so anything more would differ between backends)."""
    present = sa.func.coalesce(column, "")  # so that NOT (field = v) keeps records without the field
    if value.isascii():
        return sa.func.lower(present) == value.lower()
    return present == value


class SqlSearchIndex:
    def __init__(
        self, engine: sa.Engine, analyzer: TextAnalyzer, exact_limit: int = EXACT_LIMIT, sample_size: int = SAMPLE_SIZE,
        cached: int = ENTRIES,
    ) -> None:
        """`cached`: result sets kept in memory until the index changes (0: none)."""
        self.engine = engine
        self.analyzer = analyzer
        self.backend = backend_for(engine.dialect.name)
        self.exact_limit = exact_limit
        self.sample_size = sample_size
        self.cache = ResultCache(cached)

    # -- writing -------------------------------------------------------------------------------
    def _row(self, doc: SearchDocument, now: datetime) -> tuple[dict[str, Any], dict[str, Any], str]:
        language = (doc.language or self.analyzer.detect_language(doc.text)).lower()[:8]
        terms = self.analyzer.index_terms(doc.text, language)
        date = _aware(doc.date)
        date = date.astimezone(UTC) if date else None  # stored as UTC: SQLite keeps no offset
        row = {
            "kind": doc.kind,
            "record_id": doc.record_id,
            "language": language,
            "category": (doc.category or None) and doc.category[:64],
            "source": (doc.source or None) and doc.source[:255],
            "place": (doc.place or None) and doc.place[:255],
            "state": (doc.state or None) and doc.state.lower()[:32],
            "date": date,
            "month": date.astimezone(UTC).strftime("%Y-%m") if date else None,
        }
        record = dict(doc.record)
        if record.get("text") == doc.text:  # stored once, put back when read
            record.pop("text")
            record[_TEXT_IS_BODY] = True
        title = doc.title and self.backend.storable(doc.title)
        text = {"title": title, "body": self.backend.storable(doc.text), "record": record, "indexed_at": now}
        return row, text, terms

    def upsert(self, document: SearchDocument) -> None:
        self.upsert_many([document])

    def upsert_many(self, documents: Sequence[SearchDocument]) -> None:
        now = datetime.now(UTC)
        for start in range(0, len(documents), BATCH):
            batch = documents[start : start + BATCH]
            withheld = withheld_records(self.engine, [(d.kind, d.record_id) for d in batch])
            analysed = [self._row(d, now) for d in batch if (d.kind, d.record_id) not in withheld]
            with self.engine.begin() as conn:
                self._page_cache(conn)
                _serialise_writes(conn)
                removed = self._remove(conn, [(d.kind, d.record_id) for d in batch])
                if analysed:
                    self._insert(conn, analysed)
                if analysed or removed:
                    _raise_generation(conn)
        if len(documents) >= BULK:
            with self.engine.begin() as conn:
                self.backend.refresh_statistics(conn, len(documents))

    def _insert(self, conn: sa.Connection, analysed: list[tuple[dict[str, Any], dict[str, Any], str]]) -> None:
        if self.backend.date_keyed:
            ids = self._date_keys(conn, [r for r, _, _ in analysed])
            conn.execute(docs.insert(), [{**r, "id": i} for i, (r, _, _) in zip(ids, analysed, strict=True)])
        else:
            statement = docs.insert().returning(docs.c.id, sort_by_parameter_order=True)
            ids = list(conn.execute(statement, [r for r, _, _ in analysed]).scalars().all())
        pairs = list(zip(ids, analysed, strict=True))
        conn.execute(texts.insert(), [{"id": i, **t} for i, (_, t, _) in pairs])
        self.backend.write_terms(conn, [{"id": i, "terms": terms} for i, (_, _, terms) in pairs])

    def _page_cache(self, conn: sa.Connection) -> None:
        """SQLite: documents are read and written at random places (ids are date keys), and the
        default 2 MB page cache thrashed at 1M documents; the cache grows only as pages are used."""
        if self.backend.date_keyed:
            conn.exec_driver_sql(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")

    def _date_keys(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> list[int]:
        """Ids for new SQLite documents from the index's sequence (in the write transaction)."""
        first = int(conn.execute(sa.text("SELECT next FROM search_sequence")).scalar_one())
        if first + len(rows) >= SEQUENCE_LIMIT:
            raise ArchiveError("the search index has used up its document numbers: run `hujjat reindex`")
        conn.execute(sa.text("UPDATE search_sequence SET next = :next"), {"next": first + len(rows)})
        return [date_key(row["date"], first + n) for n, row in enumerate(rows)]

    def _remove(self, conn: sa.Connection, keys: list[tuple[str, str]]) -> list[int]:
        ids: list[int] = []
        by_kind: dict[str, list[str]] = {}
        for kind, record_id in keys:
            by_kind.setdefault(kind, []).append(record_id)
        for kind, record_ids in by_kind.items():
            found = conn.execute(
                sa.select(docs.c.id).where(docs.c.kind == kind, docs.c.record_id.in_(record_ids))
            ).scalars()
            ids.extend(found)
        if ids:
            self.backend.delete_terms(conn, ids)
            conn.execute(texts.delete().where(texts.c.id.in_(ids)))
            conn.execute(docs.delete().where(docs.c.id.in_(ids)))
        return ids

    def delete(self, kind: str, record_id: str) -> bool:
        with self.engine.begin() as conn:
            _serialise_writes(conn)
            removed = bool(self._remove(conn, [(kind, record_id)]))
            if removed:
                _raise_generation(conn)
            return removed

    def clear(self) -> None:
        with self.engine.begin() as conn:
            _serialise_writes(conn)
            self.backend.clear(conn)
            conn.execute(texts.delete())
            conn.execute(docs.delete())
            if self.backend.date_keyed:
                conn.execute(sa.text("UPDATE search_sequence SET next = 1"))
            _raise_generation(conn)

    def count(self) -> int:
        with self.engine.connect().execution_options(hujjat_read_only=True) as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(docs)).scalar_one())

    def indexed(self, kind: str, record_ids: Sequence[str]) -> set[str]:
        with self.engine.connect().execution_options(hujjat_read_only=True) as conn:
            return indexed_ids(conn, docs, kind, record_ids)

    def gather(self, kind: str | None = None, record_ids: Sequence[str] | None = None) -> Iterator[SearchDocument]:
        return gather_documents(self.engine, kind, record_ids)

    # -- searching ----------------------------------------------------------------------------
    def _conditions(self, filters: SearchFilters) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        for negate, fields in ((False, filters.include), (True, filters.exclude)):
            for name, values in fields.items():
                if not values:
                    continue
                if name == "type":  # type:post is a kind; type:raid a category (incident type)
                    kinds = [v for v in values if v.lower() in KINDS]
                    others = [v for v in values if v.lower() not in KINDS]
                    options = [docs.c.kind == v.lower() for v in kinds]
                    options += [_facet_value(docs.c.category, v) for v in others]
                else:
                    column = docs.c[name]
                    options = [_facet_value(column, v) for v in values]
                condition = sa.or_(*options)
                conditions.append(sa.not_(condition) if negate else condition)
        if filters.date_from:
            conditions.append(docs.c.date >= filters.date_from)
        if filters.date_before:
            conditions.append(docs.c.date < filters.date_before)
        return conditions

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        order: str = "relevance",
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        key = (query, filters_key(filters), order, limit, offset)
        with self.engine.connect().execution_options(hujjat_read_only=True) as conn:
            # read before searching: what the search then finds is at least this generation's
            now = int(conn.execute(sa.select(generation.c.value)).scalar_one())
            kept = self.cache.get(key, now)
            if kept is not None:
                return kept
            results = self._search(conn, query, filters, order, limit, offset)
        self.cache.put(key, now, results)  # keeps a copy of its own
        return results

    def _search(
        self, conn: sa.Connection, query: str, filters: SearchFilters | None, order: str, limit: int, offset: int,
    ) -> SearchResults:
        if order not in ORDERS:
            raise UsageError(f"unknown order {order!r}; use relevance or date")
        if not 0 < limit <= MAX_LIMIT or offset < 0:
            raise UsageError(f"the limit must be between 1 and {MAX_LIMIT}")
        given = filters or SearchFilters()  # the query's own filters are added to a copy
        filters = SearchFilters({k: list(v) for k, v in given.include.items()},
                                {k: list(v) for k, v in given.exclude.items()}, given.date_from, given.date_before)
        parsed = parse_query(query)
        for target, extra in ((filters.include, parsed.include), (filters.exclude, parsed.exclude)):
            for name, values in extra.items():
                target.setdefault(name, []).extend(values)
        tree = analyse_tree(parsed.tree, self.analyzer.query_terms) if parsed.tree is not None else None
        if parsed.tree is not None and tree is None:
            raise QueryError("nothing searchable in the query (it holds no letters or digits)")
        has_filters = any(filters.include.values()) or any(filters.exclude.values())
        if tree is None and not (has_filters or filters.date_from or filters.date_before):
            raise QueryError("the query is empty: give words to look for or a filter")
        if tree is not None:
            check_runnable(tree)
        conditions = self._conditions(filters)
        self._page_cache(conn)
        sampled = None
        matching, documents = self.backend.expand(conn, tree) if tree is not None else (None, {})  # same matches
        if matching is not None:
            estimate = self._estimate(conn, matching)
            if estimate.matches > self.exact_limit:
                dated = filters.date_from is not None or filters.date_before is not None
                sampled = self._sampled(conn, matching, conditions, order, limit, offset, estimate, dated, documents)
        total: int | None
        if sampled is not None:
            (ranked, groups, total), approximate = sampled, True
        else:
            scores = self._ranked_here(conn, matching, order, estimate, documents) if matching is not None else None
            ranked, groups = self._exact(conn, matching, conditions, order, limit, offset, scores)
            total, approximate = None, False
        ids = [r.id for r in ranked]
        rows = {
            r.id: r
            for r in conn.execute(
                sa.select(docs, texts.c.title, texts.c.body, texts.c.record)
                .join(texts, texts.c.id == docs.c.id)
                .where(docs.c.id.in_(ids))
            )
        }
        by_score = order == "relevance" and tree is not None
        ranked.sort(key=lambda r: _sort_key(rows.get(r.id), r.score, by_score))
        ranked = ranked[offset : offset + limit] if approximate else ranked
        facets: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
        for facet, value, n in groups:
            if value is not None:
                facets[facet].append((str(value), int(n)))
        if total is None:
            total = sum(n for _, n in facets["kind"])
        terms = positive_terms(tree)
        hits = [self._hit(rows[r.id], r.score if by_score else None, terms) for r in ranked if r.id in rows]
        ordered = {k: sorted(c, key=lambda kv: (-kv[1], kv[0])) for k, c in facets.items()}
        return SearchResults(total, hits, ordered, order, approximate)

    def _exact(
        self, conn: sa.Connection, tree: Node | None, conditions: list[sa.ColumnElement[bool]],
        order: str, limit: int, offset: int, scores: dict[int, float] | None = None,
    ) -> tuple[list[Any], list[tuple[str, Any, int]]]:
        """Every match counted, exactly: the six facets by six GROUP BYs over a materialised result
        of the matches' facet columns (no BM25 computed for it), and the page by a second statement
        (_exact_page), which on SQLite without filters reads no document row per match. (One GROUP
        BY over the six columns together costs less where few combinations occur, as in the web
        bench, but at 1,000,000 posts nearly every match is its own combination: 16 ms of sorting
        and 20 ms of summing here for a 4,500-match word.)"""
        source: sa.FromClause = docs
        if tree is not None:
            unscored = self._matching(tree, scores, scored=False)
            source = docs.join(unscored, unscored.c.id == docs.c.id)
        found = (
            sa.select(*(docs.c[name] for name in FACETS)).select_from(source).where(*conditions)
            .cte("found").prefix_with("MATERIALIZED")
        )
        counts = [
            sa.select(
                sa.literal(name).label("facet"), sa.cast(found.c[name], sa.String).label("value"),
                sa.cast(sa.func.count(), sa.BigInteger).label("n"),
            ).group_by(found.c[name])
            for name in FACETS
        ]
        groups = [(r.facet, r.value, int(r.n)) for r in conn.execute(sa.union_all(*counts))]
        return self._exact_page(conn, tree, conditions, order, limit, offset, scores), groups

    def _exact_page(
        self, conn: sa.Connection, tree: Node | None, conditions: list[sa.ColumnElement[bool]],
        order: str, limit: int, offset: int, scores: dict[int, float] | None = None,
    ) -> list[Any]:
        """The exact page (id, score), offset applied; the caller sorts it again (score, newest
        first, id). Relevance order without filters on SQLite: FTS5 ranks the matches alone (no
        document row read per match), by score and then id, which is newest first to the second
        (date keys); NEWEST_EXTRA rows more are read so that every row tying with the page's last
        in score and second is there, and their dates decide. Else (or when more tie than that)
        one statement joins every match's document row."""
        needed = limit + offset
        by_score = order == "relevance" and tree is not None
        if tree is not None and by_score and not conditions and isinstance(self.backend, Fts5Backend):
            matched = self._matching(tree, scores)
            best = conn.execute(
                sa.select(matched.c.id, matched.c.score).order_by(matched.c.score, matched.c.id.desc())
                .limit(needed + NEWEST_EXTRA)
            ).all()
            if len(best) <= needed:
                candidates = best
            else:
                last = best[needed - 1]
                first_second = _second(int(last.id))[0]
                beyond = best[needed:]
                settled = len(best) < needed + NEWEST_EXTRA or any(
                    r.score != last.score or int(r.id) < first_second for r in beyond
                )
                candidates = best if settled else []
            if candidates:
                dated = {r.id: r for r in conn.execute(
                    sa.select(docs.c.id, docs.c.date).where(docs.c.id.in_([int(r.id) for r in candidates]))
                )}
                ranked = [_Ranked(int(r.id), float(r.score)) for r in candidates]
                ranked.sort(key=lambda r: _sort_key(dated.get(r.id), r.score, True))
                return ranked[offset:needed]
        source: sa.FromClause = docs
        score: sa.ColumnElement[Any] = sa.null()
        if tree is not None:
            matched = self._matching(tree, scores, scored=by_score)
            source, score = docs.join(matched, matched.c.id == docs.c.id), matched.c.score
        ordering = [docs.c.date.desc().nulls_last(), docs.c.id.desc()]
        if by_score:
            ordering.insert(0, score.asc())
        page = (
            sa.select(docs.c.id, sa.cast(score, sa.Float).label("score")).select_from(source).where(*conditions)
            .order_by(*ordering).limit(limit).offset(offset)
        )
        return list(conn.execute(page))

    def _ranked_here(
        self, conn: sa.Connection, tree: Node, order: str, estimate: _Estimate, documents: dict[str, int],
    ) -> dict[int, float] | None:
        """SQLite, a tree whose every match _estimate has read (Fts5Backend.ranks_all): their
        scores, by Bm25 (FTS5's bm25() would merge the posting lists again, twice), so that the
        exact path reads these ids instead of matching again; None otherwise."""
        if not (isinstance(self.backend, Fts5Backend) and estimate.exact and estimate.pilot is not None
                and self.backend.ranks_all(tree)):
            return None
        if order != "relevance":
            return dict.fromkeys(estimate.pilot, 0.0)
        return self.backend.bm25(conn, tree, estimate.pilot, documents, 1.0)

    def _matching(self, tree: Node, scores: dict[int, float] | None, scored: bool = True) -> sa.Subquery:
        """(id, score) of the matches: the ones ranked here (_ranked_here) when given."""
        if scores is not None and isinstance(self.backend, Fts5Backend):
            return self.backend.scored(scores)
        return self.backend.matches(tree, scored=scored)

    def _estimate(self, conn: sa.Connection, tree: Node) -> _Estimate:
        """How many documents the full-text part matches. PostgreSQL counts them. On SQLite a
        count costs a pass over every match (20 ms for 300,000), so the newest PILOT matches are
        read instead (FTS5 streams them by date key) and the density among the documents as new
        as the last of them is extrapolated to the whole index: exact below PILOT matches, else
        only a guide for the sample's stride (the sample then measures the count)."""
        if not self.backend.date_keyed:
            return _Estimate(self.backend.count(conn, tree), True, None)
        # A tree ranked here (Fts5Backend.ranks_all) costs a merge of whole posting lists in any
        # statement: read up to every match (exact_limit) at once instead of the pilot.
        read = self.exact_limit + 1 if isinstance(self.backend, Fts5Backend) and self.backend.ranks_all(tree) else PILOT
        pilot = self.backend.newest_ids(conn, tree, read)
        if len(pilot) < read:
            return _Estimate(len(pilot), True, pilot)
        pilot = pilot[:PILOT]
        documents = int(conn.execute(sa.text("SELECT next - 1 FROM search_sequence")).scalar_one())
        # Counting the documents newer than the pilot's last costs a step each (80 ms for a rare
        # word whose 200th newest match is old), so stop where the density could no longer put
        # the matches above exact_limit.
        enough = PILOT * documents // max(1, self.exact_limit) + 1
        newer = int(conn.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(docs.c.id).where(docs.c.id >= pilot[-1]).limit(enough).subquery()
            )
        ).scalar_one())
        if newer >= enough:
            return _Estimate(min(self.exact_limit, documents), False, pilot)
        return _Estimate(max(PILOT, round(PILOT * documents / max(1, newer))), False, pilot)

    def _sampled(
        self, conn: sa.Connection, tree: Node, conditions: list[sa.ColumnElement[bool]],
        order: str, limit: int, offset: int, estimate: _Estimate, dated: bool = False,
        documents: dict[str, int] | None = None,
    ) -> tuple[list[Any], list[tuple[str, Any, int]], int] | None:
        """Many matches: ranking and facet counts from a sample of them (BM25 computed for the
        sample only; on SQLite, where passes would iterate LARGE documents, the sample is read from
        time windows and ranked in Python), counts scaled by how many of the matches it holds; the
        newest-first page is exact (_newest). Returns (page candidates, facet counts, total), or
        None when the sample shows no more than exact_limit matches, or filters leave fewer
        sampled rows than the page needs even in a denser second sample (the caller then
        counts exactly)."""
        needed = limit + offset
        documents = documents or {}
        windowed = ranked_here = False
        if isinstance(self.backend, Fts5Backend):  # what a pass over the matches and BM25's IDF iterate
            windowed = estimate.matches >= LARGE
            ranked_here = order == "relevance" and (windowed or self.backend.idf_documents(tree, documents) >= LARGE)
        stride = sample_stride(estimate.matches, self.sample_size)
        if conditions and estimate.pilot and not dated:  # how many of the newest matches pass the filters
            # (not with a date range: the newest matches say nothing about an older period)
            passed = conn.execute(
                sa.select(sa.func.count()).select_from(docs).where(docs.c.id.in_(estimate.pilot), *conditions)
            ).scalar_one()
            share = max(int(passed), 0.5) / len(estimate.pilot)
            if share * estimate.matches / stride < 2 * needed:  # a selective filter: sample densely at once
                stride = sample_stride(round(share * estimate.matches), 2 * needed)
                if stride <= 2:
                    return None
        result = self._sample_pass(conn, tree, conditions, order, needed, stride, windowed, ranked_here)
        kept = next(int(r.n) for r in result if r.facet == "~")  # sampled matches that pass the filters
        # The page must come from the sample (relevance), or the filters leave it thin: fewer
        # sampled rows than the page needs (a selective filter, a deep page) call for a denser one.
        thin = order == "relevance" or bool(conditions)
        if thin and 0 < kept < needed:
            finer = sample_stride(kept * stride, 4 * needed)  # for about 4 pages of rows
            if finer <= 2 or finer >= stride:
                return None
            stride, result = finer, self._sample_pass(conn, tree, conditions, order, needed, finer, windowed, ranked_here)
            kept = next(int(r.n) for r in result if r.facet == "~")
        # Unfiltered matches: counted (PostgreSQL, few), measured by the sample, or (filters on
        # SQLite) the estimate; they decide whether counting everything would have been cheap.
        matches = estimate.matches if estimate.exact or conditions else kept * stride
        if matches <= self.exact_limit or (thin and kept < needed):
            return None  # few matches after all, or still too few sampled rows for the page
        scale = matches / max(1, kept) if estimate.exact and not conditions else stride
        groups = [(r.facet, r.value, max(1, round(int(r.n) * scale))) for r in result if r.facet not in ("#", "~")]
        total = round(kept * scale) if conditions else matches
        if order == "relevance":
            ranked = [r for r in result if r.facet == "#"]
            if ranked_here and isinstance(self.backend, Fts5Backend):  # the sample's rows, ranked here (Bm25)
                scores = self.backend.bm25(conn, tree, [int(r.id) for r in ranked], documents, stride)
                best = sorted(scores.items(), key=lambda kv: (kv[1], -kv[0]))[:needed]
                ranked = [_Ranked(i, s) for i, s in best]
        else:
            ranked = self._newest(conn, tree, conditions, needed, None if conditions else estimate.pilot)
        return ranked, groups, total

    def _sample_pass(
        self, conn: sa.Connection, tree: Node, conditions: list[sa.ColumnElement[bool]],
        order: str, needed: int, stride: int, windowed: bool = False, ranked_here: bool = False,
    ) -> list[Any]:
        """One statement over the sampled matches that pass the filters: their number (facet
        "~"), the best `needed` by BM25 ("#", relevance order only) and the six facet counts. The
        filters are applied before BM25 is computed (SQLite flattens the match into the join)."""
        # `ranked_here`: the caller ranks the sample's rows (Fts5Backend.bm25), as FTS5's bm25()
        # would first count every phrase's documents over the whole index (once per window).
        windows = None
        if windowed:
            oldest = conn.execute(sa.select(sa.func.min(docs.c.id)).where(docs.c.id >= SEQUENCE_LIMIT)).scalar()
            newest = conn.execute(sa.select(sa.func.max(docs.c.id))).scalar()
            if oldest is not None and newest is not None:
                windows = sample_windows(int(oldest), int(newest), stride)
            if windows and _burst(conn, windows[1:]):
                windows = None
        matched = self.backend.matches(tree, stride, scored=order == "relevance" and not ranked_here, windows=windows)
        sample = (
            sa.select(
                docs.c.id, sa.cast(matched.c.score, sa.Float).label("score"), docs.c.date,
                *(docs.c[name] for name in FACETS),
            )
            .select_from(docs.join(matched, matched.c.id == docs.c.id))
            .where(*conditions)
            .cte("sample")
            .prefix_with("MATERIALIZED")
        )
        kept = sample
        parts: list[sa.Select[Any]] = [
            sa.select(
                sa.literal("~").label("facet"), sa.cast(sa.null(), sa.String).label("value"),
                sa.cast(sa.func.count(), sa.BigInteger).label("n"), sa.cast(sa.null(), docs.c.id.type).label("id"),
                sa.cast(sa.null(), sa.Float).label("score"),
            ).select_from(sample)
        ]
        if order == "relevance":
            ordering = [kept.c.score.asc(), kept.c.date.desc().nulls_last(), kept.c.id.desc()]
            top = sa.select(kept.c.id, kept.c.score)
            top = top if ranked_here else top.order_by(*ordering).limit(needed)
            parts.append(_page_part(top.subquery("top")))
        parts += [
            sa.select(
                sa.literal(name).label("facet"), sa.cast(kept.c[name], sa.String).label("value"),
                sa.cast(sa.func.count(), sa.BigInteger).label("n"), sa.cast(sa.null(), docs.c.id.type).label("id"),
                sa.cast(sa.null(), sa.Float).label("score"),
            ).group_by(kept.c[name])
            for name in FACETS
        ]
        return list(conn.execute(sa.union_all(*parts)).all())

    def _newest(
        self, conn: sa.Connection, tree: Node, conditions: list[sa.ColumnElement[bool]], wanted: int,
        pilot: list[int] | None = None,
    ) -> list[Any]:
        """The `wanted` newest matches, exactly. SQLite: ids are date keys, so FTS5 hands the
        matches over newest first (by the second) and stops after `wanted`; every match within
        the last second is added, so that the caller's exact sort (by the full date, then id)
        has all candidates. PostgreSQL: ORDER BY date over the matches with a LIMIT."""
        newest = self.backend.newest(tree)
        query = sa.select(newest.c.id, sa.cast(sa.null(), sa.Float).label("score")).select_from(
            newest.join(docs, docs.c.id == newest.c.id)
        ).where(*conditions)
        if not self.backend.date_keyed:
            return list(conn.execute(query.order_by(docs.c.date.desc().nulls_last(), docs.c.id.desc()).limit(wanted)))
        if pilot is not None and len(pilot) >= wanted + NEWEST_EXTRA:  # already read (no filters)
            rows: list[Any] = [_Ranked(i, None) for i in pilot[: wanted + NEWEST_EXTRA]]
        else:
            rows = list(conn.execute(query.order_by(newest.c.id.desc()).limit(wanted + NEWEST_EXTRA)))
        if len(rows) <= wanted:
            return rows
        first, last = _second(int(rows[wanted - 1].id))
        if int(rows[-1].id) < first:  # the rows read go past the last page row's second: all there
            return rows
        seen = {r.id for r in rows}  # (rare) more matches in that second than were read
        same = conn.execute(query.where(newest.c.id.between(first, last)))
        return rows + [r for r in same if r.id not in seen]

    def _hit(self, row: Any, score: float | None, terms: list[Any]) -> SearchHit:
        record = dict(row.record or {})
        if record.pop(_TEXT_IS_BODY, False):
            record["text"] = row.body
        return SearchHit(
            kind=row.kind,
            record_id=row.record_id,
            title=row.title,
            snippet=self.analyzer.snippet(row.body, row.language, terms),
            date=_aware(row.date),
            language=row.language,
            source=row.source,
            place=row.place,
            state=row.state,
            category=row.category,
            record=record,
            score=None if score is None else round(-float(score), 6),  # higher is better on both
        )


def _serialise_writes(conn: sa.Connection) -> None:
    """First in a write transaction: on PostgreSQL, take the generation row's lock, so that index
    writers run one after another. Two processes indexing the same record (two `hujjat add` of
    the same file) otherwise both found no row to replace and both inserted it; the second failed
    on the (kind, record_id) key. SQLite's write transactions are serialised already."""
    if conn.dialect.name != "sqlite":
        conn.execute(sa.select(generation.c.value).with_for_update())


def _raise_generation(conn: sa.Connection) -> None:
    """Last in a write transaction that changed the index (the row is locked since its start)."""
    conn.execute(generation.update().values(value=generation.c.value + 1))


def _burst(conn: sa.Connection, windows: list[tuple[int, int, int]]) -> bool:
    """Whether a time window holds many times the documents of an average one: a burst (a bulk
    intake, many posts in a few seconds) that a window sample would count `stride` times over,
    and whose facet values would crowd the sample, so the caller samples by the modulo instead.
    (A burst no window meets is missing from the sample, an error no larger than its share.)"""
    counts = [
        sa.select(sa.func.count().label("n")).where(docs.c.id.between(first, last)) for first, last, _ in windows
    ]
    found = [int(n) for n in conn.execute(sa.union_all(*counts)).scalars()]
    return max(found) > BURST * sum(found) / len(found) + BURST


class _Ranked(NamedTuple):
    id: int
    score: float | None


class _Estimate(NamedTuple):
    matches: int
    exact: bool
    pilot: list[int] | None  # SQLite: the ids of the newest matches, newest first


def _page_part(top: sa.Subquery) -> sa.Select[Any]:
    """The page's rows in the UNION ALL of page and facet counts (facet "#")."""
    return sa.select(
        sa.literal("#").label("facet"), sa.cast(sa.null(), sa.String).label("value"),
        sa.cast(sa.null(), sa.BigInteger).label("n"), top.c.id, top.c.score,
    )


def _sort_key(row: Any, score: float | None, by_score: bool) -> tuple[float, float, int]:
    """The page's order again (UNION ALL does not keep it): score, newest first, id."""
    if row is None:
        return (0.0, 0.0, 0)
    date = _aware(row.date)
    return (score if by_score and score is not None else 0.0, -date.timestamp() if date else float("inf"), -row.id)
