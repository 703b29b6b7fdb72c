"""Search as the web and the API run it (services.access.visible_search): a user without the
restricted grant gets no hit, snippet, facet value or count of a restricted record, also when
the matches run past the window that is checked record by record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hujjat.bootstrap import open_archive
from hujjat.domain.accounts import Role, User
from hujjat.services import access

WORD = "Qurghonteppa"


def _incident(cli: object, title: str, level: str, place: str) -> str:
    result = cli("incident", "new", "--title", f"{title} {WORD}", "--type", "raid", "--subtype",  # type: ignore[operator]
                 "dormitory-raid", "--date", "2024-03-05", "--place", place, "--description",
                 f"{title} said {WORD}", "--sensitivity", level, "--json")
    assert result.code == 0, result.err
    return str(json.loads(result.out)["id"])


@pytest.mark.parametrize("window", [2, 200])
def test_restricted_records_leave_no_trace_in_search(
    archive: Path, cli: object, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    secret = [_incident(cli, f"Secret{i}", "restricted", "Khorog") for i in range(4)]
    shown = [_incident(cli, "Open", "internal", "Dushanbe")]
    monkeypatch.setattr(access, "FILTER_WINDOW", window)
    opened = open_archive(archive)
    try:
        viewer = User("v", "viewer", Role.VIEWER, "hash", restricted_access=False)
        cleared = User("c", "cleared", Role.VIEWER, "hash", restricted_access=True)
        for order in ("relevance", "date"):
            results = access.visible_search(opened.ports, viewer, WORD, order=order, via=None)
            ids = [h.record_id for h in results.hits]
            assert ids == shown, ids
            assert results.total == 1
            assert "Khorog" not in json.dumps(results.facets) and "Secret" not in json.dumps(
                [(h.title, h.snippet) for h in results.hits])
            assert dict(results.facets["kind"]) == {"incident": 1}
        full = access.visible_search(opened.ports, cleared, WORD, via=None)
        assert sorted(h.record_id for h in full.hits) == sorted(secret + shown) and full.total == 5
    finally:
        opened.close()
