"""Packages end to end on SQLite and PostgreSQL: export bag -> verify-package -> import bag into a
second archive -> verify; the custody records on both sides; re-import is a no-op."""

from __future__ import annotations

import json
import os
from pathlib import Path

import bagit
import pytest

from hujjat.bootstrap import open_archive
from hujjat.entrypoints.cli.main import main
from tests.conftest import Cli


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _populate(run: object, archive: Path, tmp_path: Path) -> list[str]:
    folder = tmp_path / "incoming"
    folder.mkdir(exist_ok=True)
    (folder / "свидетель.txt").write_text("Рейд на стройке, 12 задержанных.\n", encoding="utf-8")
    (folder / "photo 100%.bin").write_bytes(os.urandom(50_000))
    code, out, err = run("add", str(folder), "--source", "witness", "--json", "--archive", str(archive))  # type: ignore[operator]
    assert code == 0, err
    code, out, _ = run("list", "--json", "--archive", str(archive))  # type: ignore[operator]
    return [item["id"] for item in json.loads(out)["items"]]


def _custody_actions(archive: Path) -> list[str]:
    arch = open_archive(archive)
    try:
        with arch.ports.uow(read_only=True) as tx:
            return [json.loads(e.body)["action"] for e in tx.custody.iter_entries()]
    finally:
        arch.close()


def _export(run: object, source: Path, out: Path, ids: list[str]) -> dict[str, object]:
    args = ["export", "bag", str(out), "--json", "--archive", str(source)]
    for item_id in ids:
        args += ["--item", item_id]
    code, stdout, err = run(*args)  # type: ignore[operator]
    assert code == 0, err
    return json.loads(stdout)  # type: ignore[no-any-return]


def _round_trip(capsys: pytest.CaptureFixture[str], source: Path, target: Path, tmp_path: Path) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        return _run(capsys, *args)

    ids = _populate(run, source, tmp_path)
    package = tmp_path / "package"
    result = _export(run, source, package, ids)
    assert result["items"] == 2 and result["custody_entries"] >= 5

    code, out, err = run("verify-package", str(package), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] and report["hujjat_package"] and report["items"] == 2
    assert len(report["key_id"]) == 16
    bagit.Bag(str(package)).validate()  # the reference library accepts what we write

    pinned = source / "keys" / "archive-signing.pub"
    assert run("verify-package", str(package), "--key", str(pinned))[0] == 0

    code, out, err = run("import", "bag", str(package), "--json", "--archive", str(target))
    assert code == 0, err
    imported = json.loads(out)
    assert imported["items"] == 2 and imported["new_items"] == 2 and not imported["forced"]

    code, out, err = run("verify", "--archive", str(target))
    assert code == 0, err + out
    code, out, _ = run("list", "--json", "--archive", str(target))
    assert sorted(i["sha256"] for i in json.loads(out)["items"]) == sorted(
        i["sha256"] for i in json.loads(run("list", "--json", "--archive", str(source))[1])["items"]
    )
    code, out, _ = run("import", "bag", str(package), "--json", "--archive", str(target))
    assert code == 0 and json.loads(out)["already_imported"]

    assert "package.exported" in _custody_actions(source)
    assert _custody_actions(target).count("package.imported") == 1
    arch = open_archive(target)
    try:
        with arch.ports.uow(read_only=True) as tx:
            (stored,) = tx.packages.imports()
            assert len(stored.entries) == result["custody_entries"]
            assert stored.verified and not stored.forced and len(stored.items) == 2
            assert stored.source_archive != arch.config.archive_id
            acquisition = tx.items.acquisitions(stored.items[0][0])[-1]
            assert acquisition.source_kind == "bag" and acquisition.source == result["external_identifier"]
    finally:
        arch.close()

    # the imported evidence can travel on: export from the second archive, and it verifies
    again = _export(run, target, tmp_path / "package2", [stored.items[0][0]])
    assert run("verify-package", str(tmp_path / "package2"))[0] == 0
    assert again["items"] == 1


def test_round_trip_from_each_backend(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "receiver"
    assert main(["init", str(target)]) == 0
    _round_trip(capsys, archive, target, tmp_path)


def test_round_trip_into_each_backend(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "sender"
    assert main(["init", str(source)]) == 0
    _round_trip(capsys, source, archive, tmp_path)


def test_export_needs_a_selection_and_an_empty_folder(sqlite_archive: Path, cli: Cli, tmp_path: Path) -> None:
    assert cli("export", "bag", str(tmp_path / "p")).code == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = cli("export", "bag", str(tmp_path / "full"), "--item", "0000")
    assert result.code == 2 and "not an empty folder" in result.err
    result = cli("export", "bag", str(tmp_path / "p"), "--item", "ZZZZZZZZ")
    assert result.code == 1 and "no item matches" in result.err
    assert not (tmp_path / "p").exists()
    result = cli("export", "bag", str(tmp_path / "p"), "--incident", "XXXXXXXX")
    assert result.code == 1 and not (tmp_path / "p").exists()


def test_export_stops_on_a_changed_blob(sqlite_archive: Path, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("original")
    assert cli("add", str(tmp_path / "f.txt")).code == 0
    item = json.loads(cli("list", "--json").out)["items"][0]
    blob = next(p for p in (sqlite_archive / "store").rglob(item["sha256"]))
    blob.chmod(0o644)
    blob.write_text("altered!")
    result = cli("export", "bag", str(tmp_path / "p"), "--item", item["id"])
    assert result.code == 1 and "changed in the store" in result.err
    assert not (tmp_path / "p").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".p.partial")]
