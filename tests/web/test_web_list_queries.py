"""The batched reads behind list and search pages (issue 7 performance): sensitivities of many
records in one query, the evidence kind filter through its index on SQLite with the same
answers as the plain LIKE (case-insensitive there), and incidents paged and counted in SQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hujjat.bootstrap import open_archive
from hujjat.domain.accounts import SENSITIVITIES
from hujjat.ports.accounts import ItemPageQuery
from tests.web.support import WebArchive


def test_record_sensitivities_items_incidents_posts_and_captures(web_archive: WebArchive) -> None:
    archive = open_archive(web_archive.root)
    try:
        ids = [*web_archive.items.values(), *web_archive.incidents.values(), *web_archive.posts.values(),
               *web_archive.captures.values(), "01ZZZZZZZZZZZZZZZZZZZZZZZZ"]
        with archive.ports.uow(read_only=True) as tx:
            levels = tx.accounts.record_sensitivities(ids + ids)  # repeats are fine
        for level in SENSITIVITIES:
            assert levels[web_archive.items[level]] == level
            assert levels[web_archive.incidents[level]] == level
            assert levels[web_archive.posts[level]] == level
            assert levels[web_archive.captures[level]] == level
        assert "01ZZZZZZZZZZZZZZZZZZZZZZZZ" not in levels
        with archive.ports.uow(read_only=True) as tx:
            assert tx.accounts.record_sensitivities([]) == {}
            only = tx.accounts.record_sensitivities(ids, {"incident", "capture"})  # search hits' kinds
        assert only == {i: levels[i] for i in [*web_archive.incidents.values(), *web_archive.captures.values()]}
    finally:
        archive.close()


def test_kind_filter_uses_index_and_keeps_like_semantics(web_archive: WebArchive) -> None:
    archive = open_archive(web_archive.root)
    try:
        base = ItemPageQuery(offset=0, limit=100)
        with archive.ports.uow(read_only=True) as tx:
            everything, total = tx.accounts.page_items(base)
            text_rows, text_total = tx.accounts.page_items(replace(base, media_prefix="text"))
            upper_rows, _ = tx.accounts.page_items(replace(base, media_prefix="TEXT"))
            none_rows, none_total = tx.accounts.page_items(replace(base, media_prefix="video"))
            plan = " ".join(str(r[-1]) for r in tx.conn.exec_driver_sql(  # type: ignore[attr-defined]
                "EXPLAIN QUERY PLAN SELECT count(*) FROM items "
                "WHERE lower(media_type) BETWEEN 'text/' AND 'text0' AND lower(media_type) LIKE 'text/%'"))
        expected = [r.id for r in everything if r.media_type.lower().startswith("text/")]
        assert expected and [r.id for r in text_rows] == expected and text_total == len(expected)
        assert [r.id for r in upper_rows] == expected  # SQLite's LIKE ignores ASCII case, so does the range
        assert none_rows == [] and none_total == 0 and total == len(everything)
        assert "ix_items_media_type_lower" in plan
        with archive.ports.uow(read_only=True) as tx:  # no index that makes the newest-first page sort
            names = {str(r[1]) for r in tx.conn.exec_driver_sql("PRAGMA index_list('items')")}  # type: ignore[attr-defined]
        assert "ix_items_sensitivity" not in names and "ix_items_sensitivity_kind" in names
    finally:
        archive.close()


def test_remembered_dates_keep_their_time_zone() -> None:
    """Aware datetimes of one instant in two zones are equal; the date cache must not mix them."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from hujjat.entrypoints.web.i18n import translator

    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    english = translator("en")
    assert english.date(moment) != english.date(moment.astimezone(ZoneInfo("Europe/Moscow")))
    assert "3:00" in english.date(moment.astimezone(ZoneInfo("Europe/Moscow")))
    assert english.date(moment) != translator("ru").date(moment)
    assert english.date(moment, with_time=False) == "Mar 1, 2026"


def test_level_filter_pages_and_counts_alike(web_archive: WebArchive) -> None:
    archive = open_archive(web_archive.root)
    try:
        base = ItemPageQuery(offset=0, limit=100)
        levels = ("public", "internal")
        with archive.ports.uow(read_only=True) as tx:
            everything, _ = tx.accounts.page_items(base)
            rows, total = tx.accounts.page_items(replace(base, sensitivities=levels))
            text_rows, text_total = tx.accounts.page_items(replace(base, sensitivities=levels, media_prefix="text"))
            first, _ = tx.accounts.page_items(replace(base, sensitivities=levels, limit=1, offset=1))
        expected = [r.id for r in everything if r.sensitivity in levels]
        assert [r.id for r in rows] == expected and total == len(expected) and "restricted" not in {r.sensitivity for r in rows}
        text_expected = [r.id for r in everything if r.sensitivity in levels and r.media_type.startswith("text/")]
        assert [r.id for r in text_rows] == text_expected and text_total == len(text_expected)
        assert [r.id for r in first] == expected[1:2]
    finally:
        archive.close()


def test_incidents_are_paged_and_counted_in_sql(archive: Path) -> None:
    """On both backends: pages joined equal the full ordered list, totals follow the filters and
    the user's clearance, and the page query itself carries LIMIT/OFFSET (no Python paging)."""
    import sqlalchemy as sa

    from hujjat.adapters.credentials import fast_credentials
    from hujjat.adapters.taxonomy_file import load_taxonomy
    from hujjat.ports.incidents import IncidentFilter
    from hujjat.services.access import page_incidents, visible_incidents
    from hujjat.services.accounts import create_user
    from hujjat.services.incidents import IncidentFields, create_incident

    opened = open_archive(archive)
    try:
        ports = opened.ports
        type_id = sorted(load_taxonomy(archive).types)[0]
        cleared = create_user(ports, fast_credentials(), "cleared", "viewer", "0123456789abc", True)
        other = create_user(ports, fast_credentials(), "other", "viewer", "0123456789abc", False)
        for day in range(1, 12):
            level = "restricted" if day % 4 == 0 else "internal"
            create_incident(ports, load_taxonomy(archive), None, IncidentFields(
                title=f"incident {day}", type=type_id, date=f"2026-03-{12 - day:02d}", latitude="41.3",
                longitude="69.2", sensitivity=level))
        statements: list[str] = []
        for user, expected in ((cleared, 11), (other, 9)):
            everything = [r["id"] for r in visible_incidents(ports, user, IncidentFilter(), via=None)]
            assert len(everything) == expected
            paged: list[str] = []
            for offset in range(0, 12, 4):
                records, total = page_incidents(ports, user, IncidentFilter(), offset, 4, via=None)
                assert total == expected and len(records) <= 4
                paged += [r["id"] for r in records]
            assert paged == everything  # same order (date, then id), nothing lost or repeated

        def seen(*args: object) -> None:
            statements.append(str(args[2]).lower())

        sa.event.listen(sa.engine.Engine, "before_cursor_execute", seen)
        try:
            page_incidents(ports, other, IncidentFilter(), 4, 4, via=None)
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", seen)
        reads = [q for q in statements if "from incidents" in q]
        assert any("limit" in q and "offset" in q for q in reads), reads
        assert any("count(" in q for q in reads), reads
        none, total = page_incidents(ports, other, IncidentFilter(states=("verified",)), 0, 4, via=None)
        assert none == [] and total == 0
        dates = [r["start"] for r in page_incidents(ports, other, IncidentFilter(), 0, 3, via=None)[0]]
        assert dates == sorted(dates)
    finally:
        opened.close()


def test_incident_counts_use_their_index_and_pages_read_in_date_order(web_archive: WebArchive) -> None:
    """SQLite: the list's counts are answered by ix_incidents_listing (web_0005) instead of reading
    every incident row; the page and the streamed date-ordered reads stay on
    ix_incidents_start_date (through the listing index SQLite would sort every visible incident)."""
    import sqlalchemy as sa

    from hujjat.adapters.db.incidents_tables import incidents
    from hujjat.ports.incidents import IncidentFilter

    archive = open_archive(web_archive.root)
    try:
        with archive.ports.uow(read_only=True) as tx:
            repo = tx.incidents
            conn = tx.conn  # type: ignore[attr-defined]
            for query in (IncidentFilter(), IncidentFilter(sensitivities=("public", "internal"))):
                count = repo._filtered(sa.select(sa.func.count()).select_from(incidents), query)  # type: ignore[attr-defined]
                page = repo._filtered(sa.select(incidents.c.record), query, ordered=True).order_by(  # type: ignore[attr-defined]
                    incidents.c.start_date, incidents.c.id).limit(50)
                plans = []
                for stmt in (count, page):
                    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
                    plans.append(" ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)))
                assert "COVERING INDEX ix_incidents_listing" in plans[0], plans
                assert "ix_incidents_start_date" in plans[1] and "ix_incidents_listing" not in plans[1], plans
            visible = [i.id for i in repo.iter_incidents(IncidentFilter(sensitivities=("public", "internal")), batch=1)]
            page_ids = [i.id for i in repo.page_incidents(IncidentFilter(sensitivities=("public", "internal")), 0, 100)[0]]
        assert visible == page_ids  # one row at a time or one page: the same incidents in the same order
        assert {web_archive.incidents["public"], web_archive.incidents["internal"]} <= set(visible)
        assert web_archive.incidents["restricted"] not in visible
    finally:
        archive.close()


def test_incident_list_pages_count_links_in_sql(archive: Path) -> None:
    """On both backends: `links=False` gives each record the number of its links (what the list
    page shows) instead of the links themselves, and the numbers agree."""
    from datetime import UTC, datetime

    from hujjat.adapters.credentials import fast_credentials
    from hujjat.adapters.taxonomy_file import load_taxonomy
    from hujjat.domain.ids import new_id
    from hujjat.domain.incidents import IncidentLink, LinkRole
    from hujjat.ports.incidents import IncidentFilter
    from hujjat.services.access import page_incidents
    from hujjat.services.accounts import create_user
    from hujjat.services.incidents import IncidentFields, create_incident

    opened = open_archive(archive)
    try:
        ports = opened.ports
        user = create_user(ports, fast_credentials(), "cleared", "viewer", "0123456789abc", True)
        ids = [str(create_incident(ports, load_taxonomy(archive), None, IncidentFields(
            title=f"incident {n}", type=sorted(load_taxonomy(archive).types)[0], date=f"2026-03-0{n + 1}",
            latitude="41.3", longitude="69.2"))["id"]) for n in range(3)]
        with ports.uow() as tx:
            for n, incident_id in enumerate(ids):
                for target in range(n):
                    tx.incidents.add_link(IncidentLink(new_id(), incident_id, "item", f"target{target}",
                                                       LinkRole.DEPICTS, None, "tests", datetime.now(UTC)))
        full, _ = page_incidents(ports, user, IncidentFilter(), via=None)
        counted, total = page_incidents(ports, user, IncidentFilter(), via=None, links=False)
        assert total == 3 and [r["id"] for r in counted] == [r["id"] for r in full]
        assert [r["link_count"] for r in counted] == [len(r["links"]) for r in full] == [0, 1, 2]
        assert all("links" not in r for r in counted)
    finally:
        opened.close()
