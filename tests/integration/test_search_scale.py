"""Search above the exact-count threshold (issue 6's 1,000,000-post target), on both backends:
sampled facet counts and ranking marked approximate, newest-first pages still exact, results
unchanged below the threshold, SQLite's date-keyed document ids and the migration that rekeys
an existing index. A small threshold makes a few hundred posts take the same code paths as a
million."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hujjat.adapters.search import backends
from hujjat.adapters.search import index as search_index
from hujjat.adapters.search.backends import Fts5Backend, render_fts5
from hujjat.adapters.search.index import SEQUENCE_LIMIT, SqlSearchIndex, date_key, sample_windows
from hujjat.bootstrap import Archive, init_archive, open_archive
from hujjat.domain.search import analyse_tree, parse_query
from hujjat.ports.search import SearchDocument, SearchFilters, SearchResults
from hujjat.processing.text.analyzer import SearchTextAnalyzer
from tests.conftest import PG_SERVER, _admin_engine, pg_available

POSTS = 300
CROWDED = datetime(2024, 3, 5, 12, 0, 0, tzinfo=UTC)  # 30 posts in this one second


def _documents() -> list[SearchDocument]:
    """300 posts that all say "рейд"; every third also "ночью"; seven chats; dates spread over a
    year in a shuffled order, 30 of them within one second (different microseconds), 10 undated."""
    rng = random.Random(6)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    documents = []
    for n in range(POSTS):
        date: datetime | None = start + timedelta(seconds=rng.randrange(365 * 86400), microseconds=rng.randrange(10**6))
        if n % 10 == 0:
            date = CROWDED + timedelta(microseconds=rng.randrange(10**6))
        if n % 30 == 1:
            date = None
        words = ["рейд", "на", "рынке", f"слово{n}"] + (["ночью"] if n % 3 == 0 else [])
        documents.append(SearchDocument(
            "post", f"p{n:03d}", " ".join(words), date=date, source=f"channel_{n % 7}",
            language="ru" if n % 4 else "ky", state="verified" if n % 5 == 0 else "unverified",
            record={"chat": f"channel_{n % 7}", "message_id": n, "text": " ".join(words)},
        ))
    rng.shuffle(documents)
    return documents


def _make(root: Path, database: str | None) -> Archive:
    archive = init_archive(root, database=database, actor="tester")
    assert archive.ports.search is not None
    documents = _documents()
    archive.ports.search.upsert_many(documents[:150])
    for document in documents[150:]:  # single writes too: the sequence continues
        archive.ports.search.upsert(document)
    return archive


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Archive]]:
    made = {"sqlite": _make(tmp_path_factory.mktemp("s") / "archive", None)}
    name = None
    if pg_available():
        name = "hujjat_test_" + uuid.uuid4().hex[:12]
        with _admin_engine().connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        made["postgresql"] = _make(tmp_path_factory.mktemp("p") / "archive", f"{PG_SERVER}/{name}")
    yield made
    for archive in made.values():
        archive.close()
    if name:
        with _admin_engine().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def arch(request: pytest.FixtureRequest, archives: dict[str, Archive]) -> Archive:
    if request.param not in archives:
        pytest.skip("no PostgreSQL server answers on " + PG_SERVER)
    return archives[request.param]


def _index(archive: Archive, exact_limit: int, sample_size: int = 100) -> SqlSearchIndex:
    return SqlSearchIndex(archive.engine, SearchTextAnalyzer(), exact_limit=exact_limit, sample_size=sample_size)


def _page(results: SearchResults) -> list[str]:
    return [hit.record_id for hit in results.hits]


def _counts(results: SearchResults, facet: str) -> dict[str, int]:
    return dict(results.facets[facet])


@pytest.fixture(params=["modulo", "windows"])
def sampling(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """SQLite samples a word whose passes would iterate index.LARGE documents by time windows and
    ranks the sample in Python (Fts5Backend.bm25); with the threshold at 0 these 300 posts take
    that path too. (PostgreSQL always samples by the modulo.)"""
    if request.param == "windows":
        monkeypatch.setattr(search_index, "LARGE", 0)
    return str(request.param)


@pytest.mark.usefixtures("sampling")
@pytest.mark.parametrize("query", ["рейд", "рейд -ночью", "ночью", "рейд chat:channel_3", "рейд state:verified"])
@pytest.mark.parametrize("offset", [0, 20, 40, 280])
def test_newest_first_pages_stay_exact_above_the_threshold(arch: Archive, query: str, offset: int) -> None:
    exact = _index(arch, exact_limit=10_000).search(query, order="date", limit=20, offset=offset)
    sampled = _index(arch, exact_limit=10).search(query, order="date", limit=20, offset=offset)
    assert not exact.approximate
    assert _page(sampled) == _page(exact)
    assert [h.date for h in sampled.hits] == [h.date for h in exact.hits]


@pytest.mark.parametrize("limit", [5, 25])
def test_the_crowded_second_is_ordered_by_microsecond(arch: Archive, limit: int) -> None:
    """30 matches share the newest second before the cut-off: more than the fast path reads past
    a page of 5, fewer than past a page of 25; both pages are the exact ones."""
    filters = SearchFilters(date_before=CROWDED + timedelta(seconds=1))
    exact = _index(arch, exact_limit=10_000).search("рейд", filters, order="date", limit=limit)
    sampled = _index(arch, exact_limit=10, sample_size=150).search("рейд", filters, order="date", limit=limit)
    assert sampled.approximate and _page(sampled) == _page(exact)
    dates = [h.date for h in sampled.hits]
    assert len(dates) == limit and all(d is not None and d.replace(microsecond=0) == CROWDED for d in dates)
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]


def test_sampled_counts_are_marked_and_close_to_the_exact_ones(arch: Archive) -> None:
    exact = _index(arch, exact_limit=10_000).search("рейд")
    sampled = _index(arch, exact_limit=100, sample_size=150).search("рейд")
    assert (exact.approximate, sampled.approximate) == (False, True)
    assert exact.total == POSTS
    assert abs(sampled.total - POSTS) <= 0.1 * POSTS  # counted (PostgreSQL) or measured by the sample (SQLite)
    for facet in ("source", "language", "state"):
        true, estimate = _counts(exact, facet), _counts(sampled, facet)
        for value, count in true.items():
            if count >= 40:
                assert abs(estimate.get(value, 0) - count) <= 0.4 * count, (facet, value, count, estimate)
    assert len(sampled.hits) == 20
    scores = [h.score for h in sampled.hits]
    assert None not in scores and scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert all("рейд" in str(h.record["text"]) for h in sampled.hits)


@pytest.mark.usefixtures("sampling")
def test_filtered_totals_are_estimated_when_sampled(arch: Archive) -> None:
    exact = _index(arch, exact_limit=10_000).search("рейд -chat:channel_0")
    sampled = _index(arch, exact_limit=100, sample_size=150).search("рейд -chat:channel_0")
    assert sampled.approximate and not exact.approximate
    assert abs(sampled.total - exact.total) <= 0.25 * exact.total
    assert all(h.source != "channel_0" for h in sampled.hits)


def test_a_selective_filter_falls_back_to_exact_results(arch: Archive) -> None:
    """Too few sampled rows pass the filter to fill the page: the search counts everything."""
    exact = _index(arch, exact_limit=10_000).search("рейд chat:channel_2 state:verified", limit=20)
    fallback = _index(arch, exact_limit=10, sample_size=20).search("рейд chat:channel_2 state:verified", limit=20)
    assert not fallback.approximate
    assert (fallback.total, _page(fallback), fallback.facets) == (exact.total, _page(exact), exact.facets)


def test_results_below_the_threshold_are_unchanged(arch: Archive) -> None:
    for query in ("ночью", "рейд chat:channel_1", "рейд"):
        default = _index(arch, exact_limit=POSTS).search(query)
        assert not default.approximate
        assert default.total == _index(arch, exact_limit=10_000).search(query).total


@pytest.mark.parametrize("query", ["рейд", "ночью"])
def test_exact_relevance_pages_follow_score_then_date(arch: Archive, query: str) -> None:
    """Below the threshold, relevance pages are exact: score, then newest first. Many matches tie
    in score here (same length, one occurrence) and 30 share one second, so the page boundaries
    fall inside ties. Without filters SQLite ranks inside FTS5 (score, then id) and settles the
    ties by date; a filter that removes nothing takes the statement that joins every document
    row: the pages must be the same, and together every match once, best first."""
    index = _index(arch, exact_limit=10_000)
    total = index.search(query).total
    fast: list[str] = []
    joined: list[str] = []
    scores: list[float] = []
    for offset in range(0, total, 7):
        page = index.search(query, limit=7, offset=offset)
        fast += _page(page)
        joined += _page(index.search(query + " -chat:no_such_chat", limit=7, offset=offset))
        scores += [h.score or 0.0 for h in page.hits]
    assert fast == joined
    assert len(fast) == len(set(fast)) == total
    assert scores == sorted(scores, reverse=True)


def test_sqlite_ids_are_date_keys(archives: dict[str, Archive]) -> None:
    engine = archives["sqlite"].engine
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, date FROM search_documents ORDER BY id DESC")).all()
        next_number = conn.execute(sa.text("SELECT next FROM search_sequence")).scalar_one()
    assert next_number == POSTS + 1
    dated = [r for r in rows if r.date is not None]
    undated = [r for r in rows if r.date is None]
    assert rows == dated + undated and all(r.id < SEQUENCE_LIMIT for r in undated)
    seconds = [str(r.date)[:19] for r in dated]
    assert seconds == sorted(seconds, reverse=True)


def test_migration_rekeys_an_existing_sqlite_index(tmp_path: Path) -> None:
    """An index written before search_0002 (ids 1, 2, 3... in insertion order) is rewritten to
    date keys on open, with its texts and full-text rows, and keeps working."""
    root = tmp_path / "archive"
    archive = _make(root, None)
    before = {q: archive.ports.search.search(q, order="date", limit=50) for q in ("рейд", "ночью", "слово7")}  # type: ignore[union-attr]
    with archive.engine.begin() as conn:  # back to the old layout: small ids, no sequence table
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        conn.exec_driver_sql("CREATE TEMP TABLE old_ids AS SELECT id AS new, row_number() OVER (ORDER BY record_id) AS old FROM search_documents")
        conn.exec_driver_sql("UPDATE search_documents SET id = (SELECT old FROM old_ids WHERE new = search_documents.id)")
        conn.exec_driver_sql("UPDATE search_texts SET id = (SELECT old FROM old_ids WHERE new = search_texts.id)")
        conn.exec_driver_sql("UPDATE search_fts SET rowid = (SELECT old FROM old_ids WHERE new = search_fts.rowid)")
        conn.exec_driver_sql("DROP TABLE search_sequence")
        conn.exec_driver_sql("DROP TABLE search_generation")  # search_0003, after it
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'search_0001' WHERE version_num LIKE 'search_%'")
    archive.close()
    reopened = open_archive(root, "tester")
    index = reopened.ports.search
    assert index is not None
    with reopened.engine.connect() as conn:
        ids = conn.execute(sa.text("SELECT id FROM search_documents")).scalars().all()
        assert conn.execute(sa.text("SELECT next FROM search_sequence")).scalar_one() == POSTS + 1
        assert conn.execute(sa.text("SELECT count(*) FROM search_fts")).scalar_one() == POSTS
    assert sum(1 for i in ids if i >= SEQUENCE_LIMIT) == POSTS - 10
    for query, results in before.items():
        again = index.search(query, order="date", limit=50)
        assert (_page(again), again.total) == (_page(results), results.total)
    index.upsert(SearchDocument("post", "late", "рейд поздно", date=datetime(2030, 1, 1, tzinfo=UTC)))
    assert _page(index.search("рейд", order="date", limit=1)) == ["late"]
    reopened.close()


def test_a_filter_thinning_the_sample_gets_a_denser_one(arch: Archive) -> None:
    """A sample of 1 in 17 (about 18 posts) would hold too few posts outside channel_3 for a page
    of 20: a denser sample fills it (SQLite chooses it at once from how many of the newest matches
    pass the filter, PostgreSQL after the first sample), and the results stay approximate instead
    of counting everything."""
    exact = _index(arch, exact_limit=10_000).search("рейд -chat:channel_3")
    sampled = _index(arch, exact_limit=10, sample_size=20).search("рейд -chat:channel_3")
    assert sampled.approximate and len(sampled.hits) == 20
    assert all(h.source != "channel_3" for h in sampled.hits)
    assert abs(sampled.total - exact.total) <= 0.25 * exact.total


def test_postgresql_statistics_follow_a_bulk_load(tmp_path: Path) -> None:
    """A bulk upsert ANALYZEs the index tables once they outgrow the planner's statistics."""
    if not pg_available():
        pytest.skip("no PostgreSQL server answers on " + PG_SERVER)
    name = "hujjat_test_" + uuid.uuid4().hex[:12]
    with _admin_engine().connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    archive = init_archive(tmp_path / "archive", database=f"{PG_SERVER}/{name}", actor="tester")
    try:
        assert archive.ports.search is not None
        for part in range(3):
            archive.ports.search.upsert_many([
                SearchDocument("post", f"b{part}-{n}", f"облава {n}", language="ru") for n in range(1500)
            ])
        with archive.engine.connect() as conn:
            known = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'search_documents'")).scalar_one()
        assert known >= 1500
    finally:
        archive.close()
        with _admin_engine().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.usefixtures("sampling")
def test_a_deep_relevance_page_is_never_empty(arch: Archive) -> None:
    """A page beyond what the sample holds is read from a denser sample or counted exactly."""
    first = _index(arch, exact_limit=10, sample_size=20).search("рейд", limit=20, offset=0)
    deep = _index(arch, exact_limit=10, sample_size=20).search("рейд", limit=20, offset=100)
    assert len(first.hits) == len(deep.hits) == 20


def test_sqlite_expands_a_prefix_into_the_few_terms_it_covers(
    archives: dict[str, Archive], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`слово29*` covers 11 index terms (слово29, слово290-299): searched as an OR of them, which
    FTS5 streams; `слово1*` covers 111 and stays a prefix; the Uzbek-Latin transliteration of a
    Cyrillic word (`slovo29*`) covers none and is dropped, as is a phrase version holding such a
    term (phrases keep their prefixes). The matches are the same either way."""
    archive = archives["sqlite"]
    analyzer = SearchTextAnalyzer()

    def expanded(query: str) -> str:
        parsed = parse_query(query).tree
        assert parsed is not None
        tree = analyse_tree(parsed, analyzer.query_terms)
        assert tree is not None
        with archive.engine.connect() as conn:
            return render_fts5(Fts5Backend().expand(conn, tree)[0])

    assert expanded("слово29*") == "(" + " OR ".join(f'"слово{n}"' for n in [29, *range(290, 300)]) + ")"
    assert expanded("слово1*") == '"слово1"*'
    assert expanded("рейд") == '"рейд"'  # its transliteration "reyd"* covers no term: dropped
    assert expanded("zzz") == '"zzz"*'  # nothing covered at all: as it was (no matches)
    assert expanded('"рынке слово29"') == '"рынк"* + "слово29"*'  # the Latin version covers nothing
    queries = ["слово29*", "слово1*", "рейд -ночью", "рейд OR слово2*", '"рынке слово29"', '"на рынке"']

    def matches(query: str) -> tuple[list[str], int]:  # (BM25's IDF differs by term: not the order)
        return sorted(_page(_index(archive, POSTS).search(query, limit=500))), _index(archive, 10).search(query).total

    found = {query: matches(query) for query in queries}
    monkeypatch.setattr(backends, "MAX_EXPANSION", 0)  # no expansion
    assert found == {query: matches(query) for query in queries}


def test_bm25_in_python_equals_fts5s(archives: dict[str, Archive]) -> None:
    """Fts5Backend.bm25 (used for windowed samples) gives FTS5's bm25() scores: same formula, and
    here every match is scored (scale 1), so even the document counts of phrases and prefixes,
    estimated from the scored rows, are exact."""
    archive, backend, analyzer = archives["sqlite"], Fts5Backend(), SearchTextAnalyzer()
    for query in ("рейд", "рейд -ночью", "рейд OR ночью", '"на рынке"', "слово2*", "рынке ночью"):
        parsed = parse_query(query).tree
        assert parsed is not None
        tree = analyse_tree(parsed, analyzer.query_terms)
        assert tree is not None
        with archive.engine.connect() as conn:
            tree, documents = backend.expand(conn, tree)
            expected: dict[int, float] = dict(conn.execute(
                sa.text("SELECT rowid, bm25(search_fts) FROM search_fts WHERE search_fts MATCH :q"),
                {"q": render_fts5(tree)},
            ).all())
            scores = backend.bm25(conn, tree, list(expected), documents, 1.0)
        assert expected and scores.keys() == expected.keys()
        assert all(abs(scores[i] - expected[i]) < 1e-9 for i in expected), query


def test_time_windows_sample_every_month_in_the_same_proportion() -> None:
    """Each calendar month between the oldest and the newest document gets the same number of
    windows, covering 1/stride of it (to the key), inside the month and in order; undated
    documents are sampled by the modulo; the windows are the same for the same stride."""
    oldest = date_key(datetime(2022, 1, 17, 5, tzinfo=UTC), 1)
    newest = date_key(datetime(2024, 12, 30, 23, tzinfo=UTC), 2)
    windows = sample_windows(oldest, newest, 97)
    assert windows is not None and windows == sample_windows(oldest, newest, 97)
    assert windows[0] == (0, SEQUENCE_LIMIT - 1, 97)
    months = [datetime(2022 + n // 12, n % 12 + 1, 1, tzinfo=UTC) for n in range(37)]
    per_month = search_index.WINDOWS // 36 + 1
    for start, end in itertools.pairwise(months):
        first, last = date_key(start, 0), date_key(end, 0)
        inside = [(a, b) for a, b, every in windows[1:] if first <= a <= b < last and every == 1]
        assert len(inside) == per_month
        covered = sum(b - a + 1 for a, b in inside)
        assert abs(covered - (last - first) / 97) <= per_month
    assert all(b < c for (_, b, _), (c, _, _) in itertools.pairwise(windows[1:]))
    assert len(windows) == 1 + 36 * per_month
    assert sample_windows(oldest, date_key(datetime(2090, 1, 1, tzinfo=UTC), 0), 97) is None  # too many months


def test_sqlite_bulk_writes_keep_the_index_in_one_segment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a bulk upsert, FTS5 merges its segments into one once the newer ones hold more than
    a quarter of the pages or there are more than MAX_SEGMENTS (Fts5Backend.refresh_statistics);
    single writes are left alone."""
    archive = init_archive(tmp_path / "archive", actor="tester")
    index = archive.ports.search
    assert index is not None

    def segments() -> int:
        with archive.engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(DISTINCT segid) FROM search_fts_idx")).scalar_one())

    words = ["рейд", "на", "рынке", "задержали", "мигрантов", "полиция", "проверка", "документов"]
    rng = random.Random(3)
    for part in range(3):
        index.upsert_many([
            SearchDocument("post", f"b{part}-{n}", " ".join(rng.choices(words, k=30)) + f" слово{n}", language="ru")
            for n in range(1500)
        ])
        assert segments() == 1
    for n in range(3):  # not bulk writes: left as they are
        index.upsert(SearchDocument("post", f"one{n}", "рейд", language="ru"))
    assert segments() > 1

    def small_bulk(part: str) -> None:  # 1,000 short posts: far less than a quarter of the pages
        index.upsert_many([SearchDocument("post", f"{part}{n}", f"рейд слово{n}", language="ru") for n in range(1000)])

    small_bulk("c")
    assert 1 < segments() <= backends.MAX_SEGMENTS
    monkeypatch.setattr(backends, "MAX_SEGMENTS", segments() - 1)
    small_bulk("d")  # one segment more than the limit now
    assert segments() == 1
    assert index.search("слово1499").total == 3
    archive.close()


def _spread_archive(root: Path, burst: int = 0) -> Archive:
    """600 posts that all say "рейд", spread evenly over 2023-2024 (dates in shuffled order), five
    chats, a quarter verified; `burst` more within one second (a bulk intake)."""
    rng = random.Random(11)
    start, seconds = datetime(2023, 1, 1, tzinfo=UTC), 2 * 365 * 86400
    archive = init_archive(root, actor="tester")
    assert archive.ports.search is not None
    documents = [
        SearchDocument(
            "post", f"s{n:04d}", f"рейд слово{n}", date=start + timedelta(seconds=rng.randrange(seconds)),
            source=f"channel_{n % 5}", language="ru", state="verified" if n % 4 == 0 else "unverified",
        )
        for n in range(600)
    ]
    documents += [
        SearchDocument("post", f"b{n:04d}", f"рейд пачка{n}", date=BURST_SECOND + timedelta(microseconds=n),
                       source="intake", language="ru", state="verified")
        for n in range(burst)
    ]
    archive.ports.search.upsert_many(documents)
    return archive


BURST_SECOND = datetime(2024, 5, 5, 5, 5, 5, tzinfo=UTC)


def test_a_time_window_sample_is_close_to_the_exact_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sampled by time windows and ranked in Python (the threshold at 0), a word in 600 evenly
    spread posts gets a total, chats, states and months close to the exact ones, and a page
    ranked by BM25."""
    archive = _spread_archive(tmp_path / "archive")
    exact = _index(archive, exact_limit=10_000).search("рейд")
    monkeypatch.setattr(search_index, "LARGE", 0)
    calls: list[str] = []
    sample_windows_, bm25 = search_index.sample_windows, Fts5Backend.bm25

    def windows(*args: Any) -> Any:
        calls.append("windows")
        return sample_windows_(*args)

    def ranking(*args: Any) -> Any:
        calls.append("bm25")
        return bm25(*args)

    monkeypatch.setattr(search_index, "sample_windows", windows)
    monkeypatch.setattr(Fts5Backend, "bm25", ranking)
    sampled = _index(archive, exact_limit=100, sample_size=200).search("рейд")
    assert set(calls) == {"windows", "bm25"}  # the path under test was taken
    assert sampled.approximate and not exact.approximate and exact.total == 600
    assert abs(sampled.total - 600) <= 0.15 * 600
    for facet in ("source", "state"):
        for value, count in _counts(exact, facet).items():
            assert abs(_counts(sampled, facet).get(value, 0) - count) <= 0.3 * count, (facet, value)
    for half in ("2023-0", "2023-1", "2024-0", "2024-1"):  # months 01-09 and 10-12 of each year
        true = sum(n for month, n in _counts(exact, "month").items() if month.startswith(half))
        estimate = sum(n for month, n in _counts(sampled, "month").items() if month.startswith(half))
        assert abs(estimate - true) <= 0.3 * true, half
    scores = [h.score for h in sampled.hits]
    assert len(scores) == 20 and None not in scores and scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    archive.close()


def test_a_burst_in_a_time_window_is_detected(tmp_path: Path) -> None:
    """A window holding 200 posts of one second, where the others hold a post or two, is a burst
    (the search then samples by the modulo); evenly spread windows are not."""
    archive = _spread_archive(tmp_path / "archive", burst=200)
    second = date_key(BURST_SECOND, 0)
    width = 3 * 86400 << search_index.KEY_SHIFT  # three days
    others = [(date_key(datetime(2023, m, 2, tzinfo=UTC), 0), 0) for m in range(1, 13)]
    windows = [(first, first + width - 1, 1) for first, _ in others]
    with archive.engine.connect() as conn:
        assert not search_index._burst(conn, windows)
        assert search_index._burst(conn, [*windows, (second - width // 2, second + width // 2, 1)])
    archive.close()
