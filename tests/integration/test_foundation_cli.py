"""The foundation through its CLI, on SQLite and on PostgreSQL: init, add, list, show, export, verify."""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from pathlib import Path

import pytest

from tests.conftest import CORPUS, Cli


def _files(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("Свидетель видел рейд на стройке.\n", encoding="utf-8")
    (folder / "sub" / "b.bin").write_bytes(os.urandom(70_000))
    (folder / "sub" / "copy_of_a.txt").write_bytes((folder / "a.txt").read_bytes())
    return folder


def test_init_creates_config_database_store_and_private_key(archive: Path, db_url: str | None) -> None:
    config = tomllib.loads((archive / "hujjat.toml").read_text())
    assert len(config["archive_id"]) == 26
    key = archive / "keys" / "archive-signing.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (archive / "keys" / "archive-signing.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY")
    if db_url is None:
        assert (archive / "hujjat.db").exists()
    else:
        assert config["database"].startswith("postgresql://")


def test_init_refuses_a_non_empty_folder(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("keep me")
    result = cli("init", str(tmp_path / "x"), archive=False)
    assert result.code == 1 and "not empty" in result.err
    assert (tmp_path / "x" / "file").read_text() == "keep me"


def test_add_dedups_content_but_keeps_every_acquisition(archive: Path, cli: Cli, tmp_path: Path) -> None:
    folder = _files(tmp_path)
    result = cli("add", str(folder), "--source", "witness upload", "--note", "first batch", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert (summary["added"], summary["already_present"], summary["failed"]) == (2, 1, 0)

    listing = json.loads(cli("list", "--json").out)
    assert listing["total"] == 2 and len(listing["items"]) == 2
    text_item = next(i for i in listing["items"] if i["media_type"].startswith("text/"))
    assert set(text_item) >= {"id", "sha256", "size", "media_type"}

    detail = json.loads(cli("show", text_item["sha256"][:10], "--json").out)
    names = sorted(a["original_name"] for a in detail["acquisitions"])
    assert names == ["a.txt", "copy_of_a.txt"]
    assert all(a["source"] == "witness upload" and a["note"] == "first batch" for a in detail["acquisitions"])
    assert all(a["original_mtime"] for a in detail["acquisitions"])
    actions = [e["action"] for e in detail["custody"]]
    assert actions.count("item.added") == 1 and actions.count("item.acquired") == 2

    again = json.loads(
        cli("add", str(folder), "--source", "witness upload", "--note", "first batch", "--json").out
    )
    assert (again["added"], again["already_present"]) == (0, 3)
    assert not any(o["new_acquisition"] for o in again["outcomes"])
    assert json.loads(cli("list", "--json").out)["total"] == 2
    assert cli("verify").code == 0


def test_show_by_id_prefix_and_errors(archive: Path, cli: Cli, tmp_path: Path) -> None:
    cli("add", str(_files(tmp_path)))
    item = json.loads(cli("list", "--json").out)["items"][0]
    assert json.loads(cli("show", item["id"], "--json").out)["sha256"] == item["sha256"]
    assert json.loads(cli("show", "sha256:" + item["sha256"].upper(), "--json").out)["id"] == item["id"]
    missing = cli("show", "ffffffffffff")
    assert missing.code == 1 and "no item matches" in missing.err and "Traceback" not in missing.err
    assert cli("show", "ab").code == 2


def test_export_file_returns_original_bytes_and_logs_it(archive: Path, cli: Cli, tmp_path: Path) -> None:
    folder = _files(tmp_path)
    cli("add", str(folder))
    original = (folder / "sub" / "b.bin").read_bytes()
    item = next(i for i in json.loads(cli("list", "--json").out)["items"] if i["size"] == len(original))
    dest = tmp_path / "out.bin"
    assert cli("export-file", item["id"], str(dest)).code == 0
    assert dest.read_bytes() == original
    assert cli("export-file", item["id"], str(dest)).code == 1  # never overwrites
    custody = json.loads(cli("show", item["id"], "--json").out)["custody"]
    assert custody[-1]["action"] == "item.exported"


def test_corpus_media_metadata_through_the_cli(archive: Path, cli: Cli) -> None:
    media = CORPUS / "media"
    if not media.exists():
        pytest.skip("shared/corpus/media is absent")
    assert (
        cli("add", str(media / "metadata-extractor-dotnet" / "with-gps.mov"), str(media / "pillow")).code == 0
    )
    items = json.loads(cli("list", "--json").out)["items"]
    video = next(i for i in items if i["media_type"] == "video/quicktime")
    meta = json.loads(cli("show", video["id"], "--json").out)["metadata"]
    assert meta["location"]["latitude"] == pytest.approx(32.0929, abs=1e-4)
    assert meta["location"]["longitude"] == pytest.approx(34.862, abs=1e-4)
    for item in items:
        shown = json.loads(cli("show", item["id"], "--json").out)["metadata"]
        loc = shown["location"]
        assert loc is None or (-90 <= loc["latitude"] <= 90 and -180 <= loc["longitude"] <= 180)


def test_metadata_read_in_a_child_process_is_recorded_as_read(
    archive: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large intake reads metadata in a child process (MetadataReader.parallel); what it records
    for every file, broken ones included, is exactly what the readers give in-process."""
    from hujjat.bootstrap import open_archive
    from hujjat.domain.canonical import canonical_bytes
    from hujjat.processing.metadata import extract_metadata
    from hujjat.services import intake

    media = CORPUS / "media"
    if not media.exists():
        pytest.skip("shared/corpus/media is absent")
    monkeypatch.setattr(intake, "PARALLEL_METADATA_FILES", 1)
    assert cli("add", str(media), "--json").code == 0
    opened = open_archive(archive)
    try:
        with opened.ports.uow(read_only=True) as tx:
            items = list(tx.items.iter_items())
            assert len(items) >= 20  # every file of the corpus, its README and ground truth
            for item in items:
                path = opened.ports.store.local_path(item.sha256)
                assert path is not None
                [stored] = tx.items.metadata(item.id)
                expected = extract_metadata(path, item.media_type)
                assert (stored.status, _unnamed(stored.error), stored.version) == (
                    expected.status,
                    _unnamed(expected.error),
                    expected.version,
                ), path
                assert canonical_bytes(stored.data) == canonical_bytes(expected.data), path
    finally:
        opened.close()


def _unnamed(error: str | None) -> str | None:
    """An error message without the file name in it (recorded from the staged copy's name)."""
    return re.sub(r"'/[^']*'", "'FILE'", error) if error else error


def test_usage_errors_exit_2(archive: Path, cli: Cli) -> None:
    assert cli("add", "--no-such-option", "x").code == 2
    assert cli("frobnicate", archive=False).code == 2


def test_missing_archive_is_one_clear_line(tmp_path: Path, cli: Cli) -> None:
    result = cli("list", "--archive", str(tmp_path / "nowhere"))
    assert result.code == 1
    assert "no archive" in result.err and "Traceback" not in result.err
