"""Large list totals are remembered for a few seconds per server process (issue 7 performance):
the rows stay fresh, the total follows within Totals.SECONDS, small totals are never remembered,
and users of different clearances never share one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hujjat.bootstrap import open_archive
from hujjat.ports.accounts import ItemPageQuery
from hujjat.services.access import Totals, dashboard, page_items, totals
from hujjat.services.accounts import get_user
from hujjat.services.context import ArchivePorts
from hujjat.services.intake import IntakeRequest, ingest_paths
from tests.web.support import WebArchive


def test_small_totals_are_not_remembered() -> None:
    now = [100.0]
    remembered = Totals(clock=lambda: now[0])
    remembered.put(("k",), 12, size=12)
    assert remembered.get(("k",)) is None
    remembered.put(("k",), 9000, size=9000)
    assert remembered.get(("k",)) == 9000
    now[0] += Totals.SECONDS
    assert remembered.get(("k",)) is None  # expired


@pytest.fixture
def clocked(fresh_archive: WebArchive, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ArchivePorts, list[float], Any, Any]]:
    """The open archive with every total remembered (the test archive is small) on a clock the
    test moves: (ports, now, the admin, a viewer)."""
    monkeypatch.setattr(Totals, "MINIMUM", 1)
    opened = open_archive(fresh_archive.root)
    try:
        now = [1000.0]
        totals(opened.ports).clock = lambda: now[0]
        yield opened.ports, now, get_user(opened.ports, "boss"), get_user(opened.ports, "view")
    finally:
        opened.close()


def test_item_totals_lag_by_at_most_the_window(fresh_archive: WebArchive, clocked: tuple[ArchivePorts, list[float], Any, Any]) -> None:
    ports, now, boss, viewer = clocked
    rows, total = page_items(ports, boss, ItemPageQuery(limit=100), via=None)
    _, viewer_total = page_items(ports, viewer, ItemPageQuery(limit=100), via=None)
    assert total == len(rows) and viewer_total < total  # each clearance counts its own
    folder = fresh_archive.root.parent / "more"
    folder.mkdir()
    (folder / "late.txt").write_text("added after the first count\n")
    ingest_paths(ports, [folder], IntakeRequest(source="tests"))
    rows, remembered = page_items(ports, boss, ItemPageQuery(limit=100), via=None)
    assert len(rows) == total + 1  # the rows are read fresh ...
    assert remembered == total  # ... the total is the remembered one
    assert dashboard(ports, boss)["counts"]["items"] == total + 1  # first dashboard: counted now
    now[0] += Totals.SECONDS
    assert page_items(ports, boss, ItemPageQuery(limit=100), via=None)[1] == total + 1
    assert page_items(ports, viewer, ItemPageQuery(limit=100), via=None)[1] == viewer_total + 1  # internal


def test_incident_totals_lag_by_at_most_the_window(fresh_archive: WebArchive, clocked: tuple[ArchivePorts, list[float], Any, Any]) -> None:
    from hujjat.adapters.taxonomy_file import load_taxonomy
    from hujjat.ports.incidents import IncidentFilter
    from hujjat.services.access import page_incidents
    from hujjat.services.incidents import IncidentFields, create_incident

    ports, now, boss, viewer = clocked
    rows, total = page_incidents(ports, boss, IncidentFilter(), via=None)
    _, viewer_total = page_incidents(ports, viewer, IncidentFilter(), via=None)
    assert total == len(rows) and viewer_total < total  # each clearance counts its own
    taxonomy = load_taxonomy(fresh_archive.root)
    create_incident(ports, taxonomy, None, IncidentFields(
        title="late", type=sorted(taxonomy.types)[0], date="2026-03-09", latitude="41.3", longitude="69.2"))
    rows, remembered = page_incidents(ports, boss, IncidentFilter(), via=None)
    assert len(rows) == total + 1 and remembered == total  # fresh rows, remembered total
    now[0] += Totals.SECONDS
    assert page_incidents(ports, boss, IncidentFilter(), via=None)[1] == total + 1
    assert page_incidents(ports, viewer, IncidentFilter(), via=None)[1] == viewer_total + 1
