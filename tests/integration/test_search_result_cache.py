"""Cached search results (adapters/search/result_cache.py) on SQLite and PostgreSQL: a repeated
search reads only the index's generation, and every kind of write by another process (here: an
index on its own engine) is seen by the next search."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from hujjat.adapters.search.index import SqlSearchIndex
from hujjat.bootstrap import Archive, open_archive
from hujjat.ports.search import SearchDocument, SearchFilters, SearchResults
from hujjat.processing.text.analyzer import SearchTextAnalyzer


@pytest.fixture
def two(archive: Path) -> Iterator[tuple[Archive, Archive]]:
    """Two processes' views of one archive: separate engines, separate caches."""
    first, second = open_archive(archive, "reader"), open_archive(archive, "writer")
    yield first, second
    first.close()
    second.close()


def _index(archive: Archive) -> SqlSearchIndex:
    return SqlSearchIndex(archive.engine, SearchTextAnalyzer())


def _ids(results: SearchResults) -> list[str]:
    return sorted(h.record_id for h in results.hits)


def _statements(engine: sa.Engine) -> list[str]:
    """The queries run on `engine` from now on (transaction control left out)."""
    seen: list[str] = []

    def note(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith(("SELECT", "WITH", "PRAGMA")):
            seen.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", note)
    return seen


def test_a_repeated_search_reads_only_the_generation(two: tuple[Archive, Archive]) -> None:
    reader = _index(two[0])
    reader.upsert_many([SearchDocument("post", f"p{n}", f"облава на рынке {n}", language="ru", source=f"c{n % 2}")
                        for n in range(30)])
    chat = SearchFilters(include={"source": ["c1"]})
    first, filtered = reader.search("облава"), reader.search("облава", chat)
    seen = _statements(two[0].engine)
    again = reader.search("облава")
    assert len(seen) == 1 and "search_generation" in seen[0]
    assert (_ids(again), again.total, again.facets) == (_ids(first), 30, first.facets)
    assert reader.search("облава", SearchFilters(include={"source": ["c1"]})).total == filtered.total == 15
    assert len(seen) == 2  # the same filters in a new object: still the cached answer
    assert reader.search("облава", limit=5).total == 30 and len(seen) > 3  # another page size: searched
    assert reader.search("облава chat:c1", chat).total == 15
    assert chat == SearchFilters(include={"source": ["c1"]})  # the query's filter went into a copy


@pytest.mark.parametrize("change", ["upsert", "replace", "delete", "clear", "upsert_many"])
def test_another_processs_write_is_seen(two: tuple[Archive, Archive], change: str) -> None:
    reader, writer = _index(two[0]), _index(two[1])
    writer.upsert_many([SearchDocument("post", f"p{n}", "облава на рынке", language="ru") for n in range(3)])
    assert _ids(reader.search("облава")) == ["p0", "p1", "p2"]
    if change == "upsert":
        writer.upsert(SearchDocument("post", "p9", "ночная облава", language="ru"))
        expected = ["p0", "p1", "p2", "p9"]
    elif change == "replace":  # same record, new text
        writer.upsert(SearchDocument("post", "p1", "тихий вечер", language="ru"))
        expected = ["p0", "p2"]
    elif change == "delete":
        assert writer.delete("post", "p0")
        expected = ["p1", "p2"]
    elif change == "clear":
        writer.clear()
        expected = []
    else:
        writer.upsert_many([SearchDocument("post", f"m{n}", "облава", language="ru") for n in range(2)])
        expected = ["m0", "m1", "p0", "p1", "p2"]
    assert _ids(reader.search("облава")) == expected
    assert not writer.delete("post", "nothing")  # changes nothing: the cached answer stays valid
    seen = _statements(two[0].engine)
    assert _ids(reader.search("облава")) == expected and len(seen) == 1


def test_a_changed_result_does_not_change_the_cache(two: tuple[Archive, Archive]) -> None:
    index = _index(two[0])
    index.upsert(SearchDocument("post", "p", "облава", language="ru"))
    index.search("облава").hits.clear()
    assert _ids(index.search("облава")) == ["p"]


def test_two_writers_of_one_record_run_one_after_the_other(
    two: tuple[Archive, Archive], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two processes indexing the same record at once (two `hujjat add` of one file): the second
    waits for the first and replaces its row, instead of inserting a second one and failing on
    the (kind, record_id) key (seen on PostgreSQL, where writers were not serialised)."""
    first, second = _index(two[0]), _index(two[1])
    inside, go_on = threading.Event(), threading.Event()
    write_terms = first.backend.write_terms

    def held(conn: sa.Connection, rows: list[dict[str, object]]) -> None:
        write_terms(conn, rows)
        inside.set()
        go_on.wait(10)  # the first writer's transaction stays open meanwhile

    monkeypatch.setattr(first.backend, "write_terms", held)
    with ThreadPoolExecutor(2) as pool:
        one = pool.submit(first.upsert, SearchDocument("post", "same", "облава утром", language="ru"))
        assert inside.wait(10)
        other = pool.submit(second.upsert, SearchDocument("post", "same", "облава вечером", language="ru"))
        time.sleep(0.5)  # the second writer is now waiting for the first
        go_on.set()
        one.result(timeout=30)
        other.result(timeout=30)
    found = second.search("облава")
    assert _ids(found) == ["same"] and "вечером" in found.hits[0].snippet
