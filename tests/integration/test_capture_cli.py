"""`hujjat capture`, `list --kind capture` and `show` through the CLI, on SQLite and PostgreSQL,
against the local test site. Each command starts its own Chromium, as a user's does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hujjat.intake.capture.browser import chromium_path
from tests.conftest import Cli
from tests.integration.capture_site import RUSSIAN, Site, serve

needs_chromium = pytest.mark.skipif(
    not chromium_path().is_file(),
    reason=f"no Chromium at {chromium_path()} (apt-get install -y chromium, or set HUJJAT_CHROMIUM)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve(tmp_path_factory.mktemp("site")) as running:
        yield running


@pytest.mark.slow
@needs_chromium
def test_cli_capture_list_show_on_each_database(archive: Path, cli: Cli, site: Site) -> None:
    r = cli("capture", site.url("/cyr-none.html"), "--note", "raid report", "--json", "--no-media")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["state"] == "ok" and report["status"] == 200 and report["note"] == "raid report"

    failed = cli("capture", site.url("/missing"), "--json", "--no-media")
    assert failed.code == 1
    assert json.loads(failed.out)["error"] == "HTTP 404 Not Found"

    listed = json.loads(cli("list", "--kind", "capture", "--json").out)
    assert [(c["id"], c["state"]) for c in listed["captures"]] == [
        (report["id"], "ok"),
        (json.loads(failed.out)["id"], "failed"),
    ]
    shown = cli("show", report["id"], "--json")
    assert shown.code == 0, shown.err
    detail = json.loads(shown.out)
    assert RUSSIAN in detail["text"]
    assert {a["role"] for a in detail["artefacts"]} >= {"warc", "screenshot", "pdf", "html"}
    text = cli("show", report["id"])
    assert "artefacts:" in text.out and "capture.finished" in text.out
    found = cli("search", "военкомата", "--type", "capture", "--json")
    assert found.code == 0, found.err
    assert report["id"] in [hit["id"] for hit in json.loads(found.out)["results"]]
    assert cli("verify").code == 0


def test_cli_refuses_a_bad_url_before_any_network(sqlite_archive: Path, cli: Cli) -> None:
    r = cli("capture", "file:///etc/passwd")
    assert r.code == 2
    assert "not an http(s) URL" in r.err
    assert json.loads(cli("list", "--kind", "capture", "--json").out)["total"] == 0
