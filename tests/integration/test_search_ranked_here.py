"""SQLite: a query whose phrases or prefixes FTS5 merges in every statement, and that only lists
alternatives, is answered from its matches read once and ranked in Python (Fts5Backend.ranks_all):
the same page, scores, total and facets as FTS5's own path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from hujjat.adapters.search.backends import Fts5Backend
from hujjat.adapters.search.index import SqlSearchIndex
from hujjat.bootstrap import Archive, init_archive
from hujjat.domain.search import Node, analyse_tree, parse_query
from hujjat.ports.search import SearchDocument, SearchFilters, SearchResults
from hujjat.processing.text.analyzer import SearchTextAnalyzer

WORDS = ["рейд", "на", "рынке", "ночью", "полиция", "задержала", "мигрантов", "вчера", "рынок"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    made = init_archive(tmp_path_factory.mktemp("r") / "archive", actor="tester")
    assert made.ports.search is not None
    start = datetime(2024, 1, 1, tzinfo=UTC)
    made.ports.search.upsert_many([
        SearchDocument(
            "post", f"p{n:03d}", " ".join(WORDS[(n + k) % len(WORDS)] for k in range(3 + n % 13)),
            date=start + timedelta(hours=7 * n), source=f"channel_{n % 5}", language="ru",
            state="verified" if n % 3 == 0 else "unverified", record={"text": str(n)},
        )
        for n in range(240)
    ])
    yield made
    made.close()


def _tree(query: str) -> Node:
    parsed = parse_query(query).tree
    assert parsed is not None
    tree = analyse_tree(parsed, SearchTextAnalyzer().query_terms)
    assert tree is not None
    return tree


def test_which_trees_are_ranked_here() -> None:
    backend = Fts5Backend()
    assert backend.ranks_all(_tree('"полиция задержала"'))
    assert backend.ranks_all(_tree('"на рынке" OR ночью'))
    assert not backend.ranks_all(_tree('"на рынке" ночью'))  # AND: counts not in hand
    assert not backend.ranks_all(_tree('"на рынке" -ночью'))


def _summary(results: SearchResults) -> tuple[object, ...]:
    scores = [round(h.score or 0.0, 6) for h in results.hits]
    return [h.record_id for h in results.hits], scores, results.total, results.approximate, results.facets


@pytest.mark.parametrize("query", ['"полиция задержала"', '"на рынке"', '"на рынке" OR ночью', '"рынке ночью" OR мигрантов'])
@pytest.mark.parametrize("order", ["relevance", "date"])
def test_ranked_here_gives_fts5s_results(archive: Archive, monkeypatch: pytest.MonkeyPatch, query: str, order: str) -> None:
    index = SqlSearchIndex(archive.engine, SearchTextAnalyzer(), cached=0)  # both paths computed
    verified = SearchFilters(include={"state": ["verified"]})
    here = [_summary(index.search(query, f, order, 15, offset)) for f in (None, verified) for offset in (0, 10)]
    assert here[0][2] > 15  # enough matches for two pages
    monkeypatch.setattr(Fts5Backend, "ranks_all", lambda self, tree: False)
    assert here == [_summary(index.search(query, f, order, 15, offset)) for f in (None, verified) for offset in (0, 10)]


def test_a_phrase_over_the_exact_limit_is_still_sampled(archive: Archive) -> None:
    """Past exact_limit matches the ids read are only the estimate's pilot: sampled as before."""
    results = SqlSearchIndex(archive.engine, SearchTextAnalyzer(), exact_limit=10, sample_size=20).search('"на рынке"', limit=3)
    assert results.approximate and results.total > 10 and results.hits
