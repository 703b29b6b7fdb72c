"""The search query language and text analysis, without a database: parsing, hostile input
(hypothesis), folding and transliteration, and the FTS5/tsquery renderings."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hujjat.adapters.search.backends import render_fts5, render_tsquery
from hujjat.domain.search import (
    And,
    Not,
    Phrase,
    QueryError,
    Term,
    TermPhrase,
    Word,
    analyse_tree,
    check_runnable,
    parse_query,
)
from hujjat.processing.text.analyzer import SearchTextAnalyzer
from hujjat.processing.text.normalise import fold, uz_latin, words_folded

ANALYZER = SearchTextAnalyzer()
SAFE_FTS = re.compile(r'^(?:"[^"\s]+"\*?|[()+ ]|AND|OR|NOT)+$')
SAFE_TS = re.compile(r"^(?:'[^'\s\\]+'(?::\*)?|[()!&| ]|<->)+$")


def test_parser_builds_the_expected_tree() -> None:
    parsed = parse_query('"полиция задержала" мигрант* -рейд chat:ozodi -lang:ru')
    assert parsed.tree == And((Phrase(("полиция", "задержала")), Word("мигрант", True), Not(Word("рейд"))))
    assert parsed.include == {"source": ["ozodi"]} and parsed.exclude == {"language": ["ru"]}


@pytest.mark.parametrize("query", ['"unbalanced', "a OR", "AND", "((a)", "a)", "NOT", "-", "chat:", 'chat:"x y'])
def test_lenient_parsing_never_fails(query: str) -> None:
    parse_query(query)


@pytest.mark.parametrize("query", ["(" * 999 + "a", "-" * 999 + "a", ")" * 999, "-(" * 30 + "a", "NOT " * 60 + "a"])
def test_deep_nesting_does_not_recurse_without_bound(query: str) -> None:
    parse_query(query)


def test_too_long_or_too_many_words_is_a_clear_error() -> None:
    with pytest.raises(QueryError, match="too long"):
        parse_query("x" * 10_000)
    with pytest.raises(QueryError, match="too many words"):
        parse_query(" ".join(["w"] * 100))


def test_folding_and_transliteration() -> None:
    assert fold("ЁЛКА") == "елка"
    assert fold("oʻzbek") == fold("o'zbek") == fold("o`zbek") == fold("o’zbek") == "ozbek"
    assert fold(uz_latin("ўзбек")) == "ozbek"
    assert uz_latin("тошкент") == "toshkent" and uz_latin("ер") == "yer"
    assert words_folded("Ҳуқуқ ҶАМЪИЯТ Өкмөт ҮЙ") == ["ҳуқуқ", "ҷамъият", "өкмөт", "үй"]


def test_a_phrase_version_another_covers_is_dropped() -> None:
    """"полиция* задержала*" (Tajik/Kyrgyz analysis) matches nothing "полиц* задержа*" (Russian)
    does not: only the widest versions are searched (each costs FTS5's BM25 a pass for its IDF)."""
    parsed = parse_query('"полиция задержала"')
    assert parsed.tree is not None
    tree = analyse_tree(parsed.tree, ANALYZER.query_terms)
    assert tree == TermPhrase((
        (Term("politsiya", True), Term("zaderjala", True)),
        (Term("полиц", True), Term("задержа", True)),
    ))


def _compile(query: str) -> tuple[str, str] | None:
    parsed = parse_query(query)
    if parsed.tree is None:
        return None
    tree = analyse_tree(parsed.tree, ANALYZER.query_terms)
    if tree is None:
        return None
    check_runnable(tree)
    return render_fts5(tree), render_tsquery(tree)


HOSTILE = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(['"', "*", "NEAR(", "'; DROP TABLE x; --", "(", ")", "-", "AND", "OR", "NOT", ":",
                         "chat:", "\x00", "\x1b[31m", "мигрант", "o'zbek", "^", "{col}", "a+b", "\\"]),
        max_size=40,
    ).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_hostile_queries_compile_to_quoted_terms_or_a_clear_error(query: str) -> None:
    try:
        compiled = _compile(query)
    except QueryError:
        return
    if compiled is not None:
        fts, ts = compiled
        assert SAFE_FTS.match(fts), fts
        assert SAFE_TS.match(ts), ts
