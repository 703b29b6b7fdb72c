"""The per-process result cache: entries serve only their generation, the least recently used
go first, the hit budget holds, and callers get copies."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from hujjat.adapters.search.result_cache import ResultCache, filters_key
from hujjat.ports.search import SearchFilters, SearchHit, SearchResults


def _results(name: str, hits: int = 1) -> SearchResults:
    found = [SearchHit("post", f"{name}{n}", None, name, None, "ru", None, None, None, None, {}, 1.0) for n in range(hits)]
    return SearchResults(hits, found, {"kind": [("post", hits)]}, "relevance")


def test_an_entry_serves_only_its_generation() -> None:
    cache = ResultCache()
    cache.put("q", 3, _results("a"))
    assert cache.get("q", 3) == _results("a")
    assert cache.get("q", 4) is None  # the index changed
    assert cache.get("q", 3) is None  # and the old entry is gone for good
    cache.put("q", 3, _results("stale"))  # computed by a search that read the older generation
    assert cache.get("q", 4) is None


def test_least_recently_used_entries_and_hit_budget() -> None:
    cache = ResultCache(entries=2, hits=10)
    cache.put("a", 1, _results("a"))
    cache.put("b", 1, _results("b"))
    assert cache.get("a", 1) is not None  # a is now the more recent
    cache.put("c", 1, _results("c"))
    assert [k for k in "abc" if cache.get(k, 1) is not None] == ["a", "c"]
    cache.put("big", 1, _results("big", 8))  # 8 + 1 + 1 hits > 10: the oldest goes
    assert cache.get("big", 1) is not None and cache.get("a", 1) is None
    cache.put("huge", 1, _results("huge", 11))  # larger than the whole budget: not kept
    assert cache.get("huge", 1) is None and cache.get("big", 1) is not None
    assert ResultCache(entries=0).get("x", 1) is None


def test_callers_change_copies() -> None:
    cache = ResultCache()
    cache.put("q", 1, _results("a", 2))
    first = cache.get("q", 1)
    assert first is not None
    first.hits.clear()
    first.facets["kind"].append(("x", 9))
    assert cache.get("q", 1) == _results("a", 2)


@given(
    st.dictionaries(st.sampled_from(["kind", "source", "state"]), st.lists(st.text(max_size=3), max_size=3)),
    st.dictionaries(st.sampled_from(["kind", "place"]), st.lists(st.text(max_size=3), max_size=3)),
    st.none() | st.datetimes(timezones=st.just(UTC)),
)
def test_filters_keys_are_equal_exactly_when_the_filters_are(
    include: dict[str, list[str]], exclude: dict[str, list[str]], date_from: datetime | None,
) -> None:
    made = SearchFilters(dict(include), dict(exclude), date_from)
    key = filters_key(made)
    hash(key)
    assert key == filters_key(SearchFilters({k: list(v) for k, v in reversed(include.items())}, dict(exclude), date_from))
    assert key != filters_key(SearchFilters({**include, "language": ["ru"]}, dict(exclude), date_from))
    assert key != filters_key(None)
