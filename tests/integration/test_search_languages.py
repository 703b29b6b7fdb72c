"""Search on both backends: the language cases of issue 6, filters, facets, edits and deletes,
and the same results from SQLite FTS5 and PostgreSQL for the same queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hujjat.bootstrap import Archive, init_archive
from hujjat.domain.search import QueryError
from hujjat.ports.search import SearchDocument, SearchFilters
from hujjat.services.search import index_record, remove_record, search
from tests.conftest import PG_SERVER, _admin_engine, pg_available

POSTS = {
    "ru1": ("Вчера полиция задержала мигрантов на рынке. Рейды продолжаются.", "ozodi", "Москва"),
    "ru2": ("С мигрантами работала миграционная служба, рейд был ночью.", "rferl", "Москва"),
    "ru3": ("Ещё одна семья получила отказ в регистрации.", "ozodi", "Санкт-Петербург"),
    "tg1": ("Муҳоҷирони тоҷик аз набудани ҳуҷҷатҳо шикоят мекунанд.", "ozodi", "Душанбе"),
    "tg2": ("Ҳуқуқи инсон дар ин минтақа поймол мешавад; қонун ҳимоя намекунад.", "asia", "Хуҷанд"),
    "uz1": ("Ushlanganlarning hujjatlarini olib qo'yishdi. Toshkentda hibsga olindi.", "kun", "Toshkent"),
    "uz2": ("Тошкентда намойишчилар ҳибсга олинди. Ўзбек муҳожирлари норози.", "kun", "Toshkent"),
    "uz3": ("Oʻzbekiston fuqarolari chegarada ushlab turildi.", "kun", "Termiz"),
    "ky1": ("Мигранттардын укуктары бузулууда, Кыргызстандын жарандары нааразы.", "azattyk", "Бишкек"),
    "en1": ("Police raided a migrant dormitory in Moscow yesterday.", "rferl", "Moscow"),
}

LANGUAGE_CASES = [
    # the Kyrgyz "мигранттардын" is the same word; "migrant" is its Latin transliteration
    ("мигрант", {"ru1", "ru2", "ky1", "en1"}),
    ("мигрантов", {"ru1", "ru2", "ky1"}),
    ("мигрантами", {"ru1", "ru2", "ky1"}),
    ("рейд", {"ru1", "ru2"}),
    ("рейды", {"ru1", "ru2"}),
    ("ещё", {"ru3"}),
    ("еще", {"ru3"}),
    ("ЕЩЁ", {"ru3"}),
    ("муҳоҷир", {"tg1"}),
    ("муҳоҷирон", {"tg1"}),
    ("ҳуҷҷат", {"tg1"}),
    ("ҳуқуқ", {"tg2"}),
    ("қонун", {"tg2"}),
    ("hujjat", {"uz1"}),
    ("Toshkent", {"uz1", "uz2"}),
    ("Тошкент", {"uz1", "uz2"}),
    ("o'zbek", {"uz2", "uz3"}),
    ("oʻzbek", {"uz2", "uz3"}),
    ("o`zbek", {"uz2", "uz3"}),
    ("ўзбек", {"uz2", "uz3"}),
    ("мигранттар", {"ky1", "ru1", "ru2"}),
    ("Кыргызстан", {"ky1"}),
    ("migrants", {"en1"}),
    ("raid", {"en1"}),
]


def _make(root: Path, database: str | None) -> Archive:
    archive = init_archive(root, database=database, actor="tester")
    for index, (key, (text, chat, place)) in enumerate(sorted(POSTS.items())):
        document = SearchDocument(
            "post", key, text, date=datetime(2024, 1 + index % 6, 1 + index, tzinfo=UTC), source=chat,
            place=place, state="verified" if index % 3 == 0 else "unverified",
            record={"chat": chat, "message_id": index, "text": text},
        )
        index_record(archive.ports, document)
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


def _ids(archive: Archive, query: str, **kwargs: object) -> set[str]:
    return {h.record_id for h in search(archive.ports, query, limit=100, **kwargs).hits}  # type: ignore[arg-type]


@pytest.mark.parametrize(("query", "expected"), LANGUAGE_CASES, ids=[q for q, _ in LANGUAGE_CASES])
def test_language_cases(arch: Archive, query: str, expected: set[str]) -> None:
    assert _ids(arch, query) == expected


def test_detected_languages_are_stored(arch: Archive) -> None:
    results = search(arch.ports, "kind:post", limit=100)
    languages = {h.record_id: h.language for h in results.hits}
    assert languages == {"ru1": "ru", "ru2": "ru", "ru3": "ru", "tg1": "tg", "tg2": "tg", "uz1": "uz",
                         "uz2": "uz", "uz3": "uz", "ky1": "ky", "en1": "en"}


def test_operators_phrases_and_filters(arch: Archive) -> None:
    assert _ids(arch, '"полиция задержала"') == {"ru1"}
    assert _ids(arch, '"задержала полиция"') == set()
    assert _ids(arch, "мигрант -рейд") == {"ky1", "en1"}
    assert _ids(arch, "мигрант NOT ночью") == {"ru1", "ky1", "en1"}
    assert _ids(arch, "hujjat OR муҳоҷир") == {"uz1", "tg1"}
    assert _ids(arch, "мигрант chat:ozodi") == {"ru1"}
    assert _ids(arch, "мигрант -chat:ozodi") == {"ru2", "ky1", "en1"}
    assert _ids(arch, "chat:kun lang:uz") == {"uz1", "uz2", "uz3"}
    assert _ids(arch, "hujj*") == {"uz1"}
    assert _ids(arch, "Toshkent", filters=SearchFilters(include={"place": ["toshkent"]})) == {"uz1", "uz2"}
    dated = SearchFilters(date_from=datetime(2024, 1, 1, tzinfo=UTC), date_before=datetime(2024, 2, 1, tzinfo=UTC))
    assert all(h.date and h.date.month == 1 for h in search(arch.ports, "kind:post", dated).hits)


def test_snippets_escape_html_and_mark_matches(arch: Archive) -> None:
    index_record(arch.ports, SearchDocument("post", "html1", "<script>alert(1)</script> рейды & облавы"))
    hit = search(arch.ports, "облава").hits[0]
    assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet
    assert "<mark>облавы</mark>" in hit.snippet
    remove_record(arch.ports, "post", "html1")


def test_facets_count_the_current_query(arch: Archive) -> None:
    results = search(arch.ports, "мигрант OR Toshkent")  # ru1 ru2 ky1 en1 uz1 uz2
    assert results.total == 6
    assert dict(results.facets["kind"]) == {"post": 6}
    assert dict(results.facets["source"]) == {"ozodi": 1, "rferl": 2, "kun": 2, "azattyk": 1}
    assert dict(results.facets["language"]) == {"ru": 2, "ky": 1, "en": 1, "uz": 2}
    assert set(results.facets) == {"kind", "language", "source", "place", "state", "month"}


def test_edit_and_delete_are_reflected_at_once(arch: Archive) -> None:
    index_record(arch.ports, SearchDocument("incident", "inc1", "Облава на рынке"))
    assert _ids(arch, "облава") == {"inc1"}
    index_record(arch.ports, SearchDocument("incident", "inc1", "Проверка документов"))
    assert _ids(arch, "облава") == set() and _ids(arch, "документ") == {"inc1"}
    remove_record(arch.ports, "incident", "inc1")
    assert _ids(arch, "документ") == set()


@pytest.mark.parametrize("query", ["", "   ", '"', "*", "-мигрант", "NOT мигрант", "a OR -b", "x" * 10_000])
def test_queries_that_cannot_run_raise_query_error(arch: Archive, query: str) -> None:
    with pytest.raises(QueryError):
        search(arch.ports, query)


PARITY_QUERIES = [q for q, _ in LANGUAGE_CASES] + [
    '"полиция задержала"', "мигрант OR hujjat", "мигрант -ночью", "NEAR(мигрант", "'; DROP TABLE posts; --",
    "(Toshkent OR Тошкент) kun", "hujj*", "рейд AND", "OR", "мигрант chat:ozodi", "\x00мигрант\x07",
]


def test_backends_give_the_same_results(archives: dict[str, Archive]) -> None:
    if "postgresql" not in archives:
        pytest.skip("no PostgreSQL server answers on " + PG_SERVER)
    for query in PARITY_QUERIES:
        outcomes = []
        for archive in archives.values():
            try:
                results = search(archive.ports, query, order="date", limit=100)
                outcomes.append(([h.record_id for h in results.hits], results.facets))
            except QueryError as exc:
                outcomes.append(([str(exc)], {}))
        assert outcomes[0] == outcomes[1], query


HOSTILE = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(['"', "*", "NEAR(", "'; DROP TABLE search_documents; --", "(", ")", "-", "AND", "OR",
                         "NOT", "chat:", "\x00", "мигрант", "o'zbek", "^", "col:", "\\", "%", "_", "'"]),
        max_size=30,
    ).map(" ".join),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=HOSTILE)
def test_hostile_queries_are_an_error_or_a_literal_search(arch: Archive, query: str) -> None:
    try:
        results = search(arch.ports, query)
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert results.total >= len(results.hits)
    assert search(arch.ports, "kind:post", limit=100).total >= len(POSTS)  # nothing was dropped
