"""`hujjat import telegram` end to end on SQLite and PostgreSQL: posts, media, provenance,
idempotent re-import, later exports with edits, account exports, zips, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import telegram_exports as tx
from tests.conftest import Cli
from tests.processes import ends_within


def run_import(cli: Cli, path: Path, *extra: str) -> dict[str, Any]:
    result = cli("import", "telegram", str(path), "--json", *extra)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def posts(cli: Cli) -> list[dict[str, Any]]:
    result = cli("list", "--kind", "post", "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)["posts"]  # type: ignore[no-any-return]


def show(cli: Cli, ref: str) -> dict[str, Any]:
    result = cli("show", ref, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_channel_import_reimport_and_later_export(archive: Path, cli: Cli, tmp_path: Path) -> None:
    export = tx.channel_export(tmp_path / "ChatExport_2023-11-15")
    summary = run_import(cli, export, "--username", "raidwatch")
    assert summary["posts"] == {"new": 10, "unchanged": 0, "edited": 0, "skipped": 0}
    assert summary["media"] == {"stored": 3, "already_linked": 0, "not_exported": 2, "missing": 1, "refused": 2, "failed": 0}
    refused = {p["path"] for p in summary["media_problems"] if p["status"] == "refused"}
    assert refused == {"../../etc/passwd", "/etc/passwd"}

    listed = posts(cli)
    assert [p["message_id"] for p in listed] == list(range(1, 11))
    assert listed[0]["post_kind"] == "service"
    detail = show(cli, listed[1]["id"])
    assert detail["chat"]["key"] == "channel1292077344" and detail["chat"]["name"] == "Raid Watch"
    assert detail["message_id"] == 2 and detail["date"] == "2023-11-14T22:15:20+00:00"
    assert detail["text"] == "Raid reported in #Kherson — details here"
    assert detail["entities"][1]["href"] == "https://example.org/report"
    assert detail["public_link"] == "https://t.me/raidwatch/2"
    assert detail["json_path"] == "messages[1]"
    assert detail["source_export"]["sha256"] == summary["export_sha256"]
    assert detail["reactions"][0]["count"] == 5
    (photo,) = detail["media"]
    assert photo["status"] == "stored" and photo["item_id"]
    actions = [c["action"] for c in detail["custody"]]
    assert actions == ["post.added", "post.media.linked"]

    item = show(cli, photo["item_id"])
    assert any(a["source_kind"] == "telegram" and a["source"] == detail["id"] for a in item["acquisitions"])
    export_item = show(cli, summary["export_item_id"])
    assert export_item["acquisitions"][0]["source_kind"] == "telegram-export"

    placeholder = show(cli, "channel1292077344/3")["media"][0]
    assert placeholder["status"] == "not_exported" and placeholder["declared_size"] == 73400320
    assert placeholder["media_type"] == "video_file"

    items_before = json.loads(cli("list", "--json").out)["total"]
    again = run_import(cli, export, "--username", "raidwatch")
    assert again["posts"] == {"new": 0, "unchanged": 10, "edited": 0, "skipped": 0}
    assert again["media"]["stored"] == 0 and again["media"]["already_linked"] == 3 + 2 + 1 + 2
    assert json.loads(cli("list", "--json").out)["total"] == items_before

    later = tx.channel_export(tmp_path / "ChatExport_2023-12-01", edited=True, extra=True)
    third = run_import(cli, later)
    assert third["posts"] == {"new": 1, "unchanged": 9, "edited": 1, "skipped": 0}
    edited = show(cli, "channel1292077344/2")
    assert edited["text"] == "Raid CONFIRMED in #Kherson" and edited["version"] == 2
    assert [v["text"] for v in edited["versions"]] == ["Raid reported in #Kherson — details here", "Raid CONFIRMED in #Kherson"]
    assert edited["edited_utc"] == "2023-11-15T06:00:00+00:00"
    assert "post.edited" in [c["action"] for c in edited["custody"]]
    found = json.loads(cli("search", "CONFIRMED", "--json").out)["results"]
    assert [r["id"] for r in found if r["kind"] == "post"] == [edited["id"]]  # edits are re-indexed
    assert cli("verify").code == 0


def test_account_export_from_zip(archive: Path, cli: Cli, tmp_path: Path) -> None:
    bundle = tx.zip_folder(tx.account_export(tmp_path / "account"), tmp_path / "account.zip")
    summary = run_import(cli, bundle)
    assert summary["posts"]["new"] == 5
    assert summary["chats"] == ["user4242", "channel1500000000", "chat555"]
    assert summary["media"]["not_exported"] == 1
    left = show(cli, "chat555/9")
    assert left["json_path"] == "left_chats.list[0].messages[0]" and left["chat"]["type"] == "private_group"


def test_repaired_exports_say_so(archive: Path, cli: Cli, tmp_path: Path) -> None:
    summary = run_import(cli, tx.write_raw(tmp_path / "broken", tx.BROKEN_2022))
    assert summary["posts"]["new"] == 2
    assert any("unquoted" in r for r in summary["repairs"])
    text = cli("import", "telegram", str(tmp_path / "broken"))
    assert text.code == 0 and "repaired:" in text.out and "0 new, 2 unchanged" in text.out
    dup = run_import(cli, tx.write_raw(tmp_path / "dup", tx.DUPLICATE_KEYS))
    assert any("duplicate keys" in r for r in dup["repairs"])
    gift = show(cli, "user4242/30")
    assert gift["post_kind"] == "service" and gift["extra"]["duplicate_keys"] == {"text": ["Gift message text"]}


def test_legacy_export_then_modern_export_are_one_chat(archive: Path, cli: Cli, tmp_path: Path) -> None:
    first = run_import(cli, tx.write_export(tmp_path / "old", tx.LEGACY_2020), "--utc-offset", "+03:00")
    assert first["chats"] == ["channel1292077344"]
    assert show(cli, "channel1292077344/2")["date_utc"] == "2020-05-01T09:00:00+00:00"
    second = run_import(cli, tx.channel_export(tmp_path / "new"))
    assert second["chats"] == ["channel1292077344"]
    assert second["posts"]["edited"] == 1  # message 2 has other content in the new export


@pytest.mark.parametrize(
    "content", ['{"name": "x", "type": "personal_chat", "id": 1, "messages": [{"id": 1,', "not json at all", '{"a": 1}']
)
def test_bad_exports_change_nothing(archive: Path, cli: Cli, tmp_path: Path, content: str) -> None:
    result = cli("import", "telegram", str(tx.write_raw(tmp_path / "bad", content)))
    assert result.code == 1
    assert result.err.startswith("error:") and len(result.err.strip().splitlines()) == 1
    assert json.loads(cli("list", "--json").out)["total"] == 0
    assert posts(cli) == []


def test_usage_errors(archive: Path, cli: Cli, tmp_path: Path) -> None:
    export = tx.channel_export(tmp_path / "c")
    assert cli("import", "telegram", str(export), "--utc-offset", "soon").code == 2
    assert cli("import", "telegram", str(export), "--username", "no spaces allowed").code == 2
    assert cli("import", "telegram", str(tmp_path / "absent")).code == 1
    assert cli("list", "--kind", "nonsense").code == 2


def test_interrupted_import_resumes_without_double_counting(
    sqlite_archive: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hujjat.bootstrap import open_archive
    from hujjat.intake.telegram import open_export
    from hujjat.services import telegram_import
    from hujjat.services.checkpoints import sign_checkpoint

    export = tx.channel_export(tmp_path / "c")
    real = telegram_import.write_media
    calls = {"n": 0}

    def dying(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")  # the process dies while storing the second batch's media
        real(*args)

    monkeypatch.setattr(telegram_import, "write_media", dying)
    archive = open_archive(sqlite_archive)
    try:
        with open_export(export) as source, pytest.raises(RuntimeError, match="killed"):
            telegram_import.import_export(archive.ports, source, batch_size=3)
        monkeypatch.setattr(telegram_import, "write_media", real)
        with open_export(export) as source:
            resumed = telegram_import.import_export(archive.ports, source, batch_size=3).as_dict()
        sign_checkpoint(archive.ports)  # what the CLI's archive_session does at the end
    finally:
        archive.close()
    assert resumed["posts"] == {"new": 4, "unchanged": 6, "edited": 0, "skipped": 0}
    assert resumed["media"]["stored"] == 2  # photo (batch 1) was linked before the crash; voice + thumb now
    linked = [m for p in posts(cli) for m in show(cli, p["id"])["media"] if m["status"] == "stored"]
    assert len(linked) == 3
    assert cli("verify").code == 0


def test_zip_with_unsafe_entries_imports_the_safe_part(sqlite_archive: Path, cli: Cli, tmp_path: Path) -> None:
    import zipfile

    bundle = tmp_path / "evil.zip"
    root = {"name": "x", "type": "personal_chat", "id": 1, "messages": [tx.message(1, "z", photo="photos/p.jpg")]}
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("export/result.json", json.dumps(root))
        zf.writestr("export/photos/p.jpg", tx.JPEG)
        zf.writestr("../../escape.txt", "x")
        link = zipfile.ZipInfo("export/photos/link.jpg")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    summary = run_import(cli, bundle)
    assert summary["posts"]["new"] == 1 and summary["media"]["stored"] == 1
    skipped = [r for r in summary["repairs"] if r.startswith("zip entry skipped")]
    assert len(skipped) == 2 and any("../../escape.txt" in r for r in skipped)
    assert not (tmp_path.parent / "escape.txt").exists()


def test_later_export_updates_views_and_reactions(archive: Path, cli: Cli, tmp_path: Path) -> None:
    """Views and reactions are observations: a later export's counts replace the post's (no new
    version), the old and new counts stay in a `post.observed` custody entry, and an export
    without them (or with the same) changes nothing."""
    first = tx.channel_export(tmp_path / "ChatExport_2023-11-15")
    summary = run_import(cli, first)
    assert summary["observations_updated"] == 0
    later = tx.channel_export(tmp_path / "ChatExport_2023-11-20")
    data = json.loads((later / "result.json").read_text(encoding="utf-8"))
    message = data["messages"][1]
    message["reactions"] = [{"type": "emoji", "count": 41, "emoji": "😢"}]
    message["views"] = 1234
    (later / "result.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    again = run_import(cli, later)
    assert again["posts"]["unchanged"] == 10 and again["posts"]["edited"] == 0
    assert again["observations_updated"] == 1
    post = show(cli, "channel1292077344/2")
    assert post["views"] == 1234 and post["reactions"][0]["count"] == 41 and post["version"] == 1
    assert [c["action"] for c in post["custody"]].count("post.observed") == 1
    assert run_import(cli, later)["observations_updated"] == 0
    assert run_import(cli, first)["observations_updated"] == 1  # the older export's counts, observed again


def test_posts_indexed_by_a_worker_process(
    archive: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large imports index in a second process (entrypoints.index_worker) and read media metadata in
    another; when the import returns, the index holds every post, and a later edit replaces the
    old text there too."""
    from hujjat.bootstrap import open_archive
    from hujjat.entrypoints.index_worker import ProcessIndexer
    from hujjat.intake.telegram import open_export
    from hujjat.services import telegram_import
    from hujjat.services.checkpoints import sign_checkpoint

    monkeypatch.setattr(telegram_import, "PARALLEL_METADATA_MESSAGES", 1)

    def import_with_worker(export: Path) -> dict[str, Any]:
        opened = open_archive(archive)
        try:
            with open_export(export) as source, ProcessIndexer(opened, backlog=1) as indexer:
                summary = telegram_import.import_export(opened.ports, source, batch_size=3, indexer=indexer)
            sign_checkpoint(opened.ports)
        finally:
            opened.close()
        return summary.as_dict()

    def found(word: str) -> list[str]:
        hits = json.loads(cli("search", word, "--json").out)["results"]
        return sorted(h["id"] for h in hits if h["kind"] == "post")

    assert import_with_worker(tx.channel_export(tmp_path / "first"))["posts"]["new"] == 10
    photo = show(cli, "channel1292077344/2")["media"][0]
    item = show(cli, photo["item_id"])
    assert item["media_type"] == "image/jpeg" and item["metadata"]  # read by the metadata child
    assert found("Kherson") == [show(cli, "channel1292077344/2")["id"]]
    assert len(found("Escape")) == 2 and len(found("checkpoint")) == 1 and len(found("Thumb")) == 1
    later = import_with_worker(tx.channel_export(tmp_path / "later", edited=True, extra=True))
    assert later["posts"] == {"new": 1, "unchanged": 9, "edited": 1, "skipped": 0}
    assert found("CONFIRMED") == [show(cli, "channel1292077344/2")["id"]]
    assert found("reported") == []
    assert cli("verify").code == 0


def test_index_worker_stops_when_the_importer_is_killed(sqlite_archive: Path, tmp_path: Path) -> None:
    """An importer killed outright (SIGKILL) must not leave its index process waiting forever."""
    import subprocess
    import sys

    script = tmp_path / "importer.py"
    script.write_text(
        "import sys, time\n"
        "from pathlib import Path\n"
        "from hujjat.bootstrap import open_archive\n"
        "from hujjat.entrypoints.index_worker import ProcessIndexer\n"
        "if __name__ == '__main__':\n"
        "    indexer = ProcessIndexer(open_archive(Path(sys.argv[1])))\n"
        "    indexer.refresh('post', [])\n"
        "    indexer.finish()\n"
        "    print(*indexer.pool._processes, flush=True)\n"
        "    time.sleep(120)\n",
        encoding="utf-8",
    )
    importer = subprocess.Popen([sys.executable, str(script), str(sqlite_archive)], stdout=subprocess.PIPE, text=True)
    assert importer.stdout is not None
    worker = int(importer.stdout.readline())
    importer.kill()
    importer.wait()

    assert ends_within(worker)


def test_media_evidence_is_indexed_by_the_imports_indexer(
    archive: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored media's evidence documents go to the import's indexer (which may be the worker
    process), not to the intake's inline indexing on the recording thread."""
    from hujjat.bootstrap import open_archive
    from hujjat.intake.telegram import open_export
    from hujjat.services import intake, telegram_import
    from hujjat.services.checkpoints import sign_checkpoint
    from hujjat.services.search import refresh_evidence, refresh_records

    inline: list[str] = []  # ids the intake indexed itself (the export's own item is; no media should be)

    def inline_refresh(ports: Any, created: list[tuple[Any, Any]], others: list[str]) -> int:
        inline.extend([item.id for item, _ in created] + list(others))
        return refresh_evidence(ports, created, others)

    monkeypatch.setattr(intake, "refresh_evidence", inline_refresh)
    calls: list[tuple[str, list[str], int]] = []
    opened = open_archive(archive)

    class Recording:
        def refresh(self, kind: str, record_ids: list[str]) -> None:
            calls.append((kind, list(record_ids), refresh_records(opened.ports, kind, record_ids)))

        def finish(self) -> None:
            return None

    try:
        with open_export(tx.channel_export(tmp_path / "c")) as source:
            telegram_import.import_export(opened.ports, source, batch_size=3, indexer=Recording())
        sign_checkpoint(opened.ports)
    finally:
        opened.close()
    stored = {m["item_id"] for p in posts(cli) for m in show(cli, p["id"])["media"] if m["status"] == "stored"}
    evidence = [(ids, indexed) for kind, ids, indexed in calls if kind == "evidence"]
    assert len(stored) == 3 and {i for ids, _ in evidence for i in ids} == stored and not stored & set(inline)
    assert all(indexed == len(ids) for ids, indexed in evidence)  # a document for each
    assert sum(len(ids) for kind, ids, _ in calls if kind == "post") == 10


def test_a_resumed_import_indexes_what_a_killed_run_left_out(archive: Path, cli: Cli, tmp_path: Path) -> None:
    """The indexer works behind the recording thread (in another process for big imports), so a
    run killed at the wrong moment has committed posts and media that were never indexed; running
    the import again indexes them (not only `hujjat reindex`)."""
    from hujjat.bootstrap import open_archive
    from hujjat.intake.telegram import open_export
    from hujjat.services import telegram_import
    from hujjat.services.checkpoints import sign_checkpoint

    class Dead:  # the index worker died at once: everything was committed, nothing indexed
        def refresh(self, kind: str, record_ids: list[str]) -> None:
            return None

        def finish(self) -> None:
            return None

    export = tx.channel_export(tmp_path / "c")
    opened = open_archive(archive)
    try:
        search = opened.ports.search
        assert search is not None
        with open_export(export) as source:
            telegram_import.import_export(opened.ports, source, batch_size=3, indexer=Dead())
        post_ids = [p["id"] for p in posts(cli)]
        stored = [m["item_id"] for p in post_ids for m in show(cli, p)["media"] if m["status"] == "stored"]
        assert len(post_ids) == 10 and len(stored) == 3
        assert search.indexed("post", post_ids) == set() and search.indexed("evidence", stored) == set()
        with open_export(export) as source:
            again = telegram_import.import_export(opened.ports, source, batch_size=3).as_dict()
        assert again["posts"] == {"new": 0, "unchanged": 10, "edited": 0, "skipped": 0}
        assert search.indexed("post", post_ids) == set(post_ids)
        assert search.indexed("evidence", stored) == set(stored)
        sign_checkpoint(opened.ports)
    finally:
        opened.close()
    found = cli("search", "--type", "post", "--json", "Kherson")
    assert found.code == 0 and json.loads(found.out)["results"], found.err
