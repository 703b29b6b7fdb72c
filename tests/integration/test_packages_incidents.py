"""`export bag --incident`: the incident's record and evidence links, the items it links to and
the custody entries about it travel in the package, which verifies and imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hujjat.entrypoints.cli.main import main
from tests.conftest import Cli

pytest.importorskip("hujjat.entrypoints.cli.incidents")


def test_incident_package(archive: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "video.bin").write_bytes(b"\x00raid footage" * 100)
    (tmp_path / "unrelated.txt").write_text("not part of the incident")
    assert cli("add", str(tmp_path / "video.bin"), str(tmp_path / "unrelated.txt")).code == 0
    items = json.loads(cli("list", "--json").out)["items"]
    video = next(i for i in items if i["size"] == 1300)
    created = cli(
        "incident",
        "new",
        "--title",
        "Рейд на стройке",
        "--type",
        "raid",
        "--date",
        "2026-03-01",
        "--place",
        "Москва",
        "--lat",
        "55.75",
        "--lon",
        "37.61",
        "--json",
    )
    assert created.code == 0, created.err
    incident_id = json.loads(created.out)["id"]
    linked = cli(
        "incident", "link", incident_id, video["sha256"], "--role", "depicts", "--note", "filmed on site"
    )
    assert linked.code == 0, linked.err

    package = tmp_path / "pkg"
    exported = cli("export", "bag", str(package), "--incident", incident_id, "--json")
    assert exported.code == 0, exported.err
    result = json.loads(exported.out)
    assert result["items"] == 1 and result["incidents"] == 1

    (incident,) = json.loads((package / "hujjat" / "incidents.json").read_text())
    assert incident["id"] == incident_id and incident["title"] == "Рейд на стройке"
    assert (
        incident["links"][0]["target_id"] == video["id"] and incident["links"][0]["note"] == "filmed on site"
    )
    subjects = {
        json.loads(line)["subject"]
        for line in (package / "hujjat" / "custody.jsonl").read_text().splitlines()
    }
    assert incident_id in subjects and video["id"] in subjects
    manifest = (package / "manifest-sha256.txt").read_text()
    assert video["sha256"] in manifest and len(manifest.splitlines()) == 1

    assert cli("verify-package", str(package), archive=False).code == 0
    receiver = tmp_path / "receiver"
    assert main(["init", str(receiver)]) == 0
    assert main(["import", "bag", str(package), "--archive", str(receiver)]) == 0
    assert main(["verify", "--archive", str(receiver)]) == 0
