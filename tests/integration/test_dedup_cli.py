"""Near-duplicates end to end: transformed copies ingested with `hujjat add` are matched at
intake, listed by `similar`, grouped by `clusters`, summarised by `show`; back-fill reports the
items it cannot fingerprint. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from hujjat.adapters.blobs.local import LocalFolderStore
from hujjat.processing.dedup_samples import IMAGE_TRANSFORMS, reencode, scene, write_video


def _media(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    original = scene(11)
    files = {"original": folder / "original.png"}
    original.save(files["original"])
    for name in ("jpeg_q30", "caption", "flip"):
        files[name] = folder / f"{name}.png"
        IMAGE_TRANSFORMS[name](original).save(files[name])
    files["other"] = folder / "other.png"
    scene(12).save(files["other"])
    files["video"] = write_video(folder / "video.mp4", 5, seconds=8)
    files["clip"] = reencode(files["video"], folder / "clip.mp4", start_s=2, seconds=5)
    files["tiny"] = folder / "tiny.png"
    Image.new("RGB", (1, 1)).save(files["tiny"])
    return files


def _add(cli, path: Path, source: str) -> str:
    r = cli("add", str(path), "--source", source, "--json")
    assert r.code == 0, r.err
    return str(json.loads(r.out)["outcomes"][0]["item_id"])


def test_copies_found_at_intake_and_by_similar_and_clusters(archive: Path, cli, tmp_path: Path) -> None:
    files = _media(tmp_path / "media")
    ids = {name: _add(cli, path, f"channel-{name}") for name, path in files.items()}

    r = cli("similar", ids["original"], "--json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    found = {row["id"]: row for row in result["results"]}
    assert {ids["jpeg_q30"], ids["caption"], ids["flip"]} <= set(found)
    assert ids["other"] not in found and ids["video"] not in found
    assert all(row["sha256"] and row["distance"] <= 31 for row in found.values())

    r = cli("similar", ids["clip"], "--json")
    rows = json.loads(r.out)["results"]
    assert [row["id"] for row in rows] == [ids["video"]]
    assert rows[0]["kind"] == "video" and rows[0]["frames"] and rows[0]["percent"] >= 75

    r = cli("clusters", "--json")
    assert r.code == 0, r.err
    clusters = json.loads(r.out)["clusters"]
    groups = [sorted(m["id"] for m in c["members"]) for c in clusters]
    image_group = sorted(ids[n] for n in ("original", "jpeg_q30", "caption", "flip"))
    assert image_group in groups and sorted([ids["video"], ids["clip"]]) in groups
    rescanned = json.loads(cli("clusters", "--rescan", "--json").out)["clusters"]
    assert sorted(sorted(m["id"] for m in c["members"]) for c in rescanned) == sorted(groups)
    biggest = clusters[0]
    assert biggest["size"] == 4 and biggest["sources"] == 4
    assert biggest["earliest"]["id"] == ids["original"]

    detail = json.loads(cli("show", ids["flip"], "--json").out)
    summary = detail["near_duplicates"]
    assert summary["copies"] == 3 and summary["first_item"] == ids["original"]
    assert "near_duplicate.matched" in {e["action"] for e in detail["custody"]}
    assert "seen before" in cli("show", ids["flip"]).out

    r = cli("fingerprint", "--all", "--json")
    report = json.loads(r.out)
    assert report["fingerprinted"] == 0
    assert [(p["id"], p["status"]) for p in report["problems"]] == [(ids["tiny"], "failed")]

    r = cli("fingerprint", "--all", "--redo", "--json")
    assert json.loads(r.out)["fingerprinted"] == len(files)
    rows = json.loads(cli("similar", ids["clip"], "--json").out)["results"]
    assert [row["id"] for row in rows] == [ids["video"]]


def test_backfill_and_bad_references(sqlite_archive: Path, cli, tmp_path: Path, monkeypatch) -> None:
    config = sqlite_archive / "hujjat.toml"
    config.write_text(config.read_text() + "\n[dedup]\nenabled = false\n")
    files = _media(tmp_path / "media")
    ids = {name: _add(cli, files[name], name) for name in ("original", "jpeg_q30", "other", "tiny")}
    r = cli("similar", ids["original"])
    assert r.code == 1 and "switched off" in r.err

    config.write_text(config.read_text().replace("enabled = false", "image_distance = 40"))
    r = cli("similar", ids["original"])
    assert r.code == 1 and "fingerprint --all" in r.err
    # back-fill reads blobs through the store when it has no local path (S3, encrypted)
    monkeypatch.setattr(LocalFolderStore, "local_path", lambda self, sha256: None)
    r = cli("fingerprint", "--all")
    assert r.code == 0, r.err
    monkeypatch.undo()
    assert "fingerprinted 4" in r.out and "too small" in r.out
    rows = json.loads(cli("similar", ids["jpeg_q30"], "--json").out)["results"]
    assert [row["id"] for row in rows] == [ids["original"]]
    assert cli("similar", ids["tiny"]).code == 1
    assert cli("similar", ids["original"], "--threshold", "500").code == 1
    assert cli("clusters", "--sort", "nonsense").code == 2
    assert cli("fingerprint").code == 2

    # the on-disk index is derived data: deleting it costs a rebuild, not a wrong answer
    for stored in (sqlite_archive / "index").iterdir():
        stored.unlink()
    rows = json.loads(cli("similar", ids["jpeg_q30"], "--json").out)["results"]
    assert [row["id"] for row in rows] == [ids["original"]]

    config.write_text(config.read_text().replace("image_distance = 40", "image_distance = 999"))
    r = cli("list")
    assert r.code == 1 and "image_distance" in r.err


def test_copies_in_one_add_batch_find_each_other(archive: Path, cli, tmp_path: Path) -> None:
    """One `hujjat add` of a folder: the copies are fingerprinted on worker threads and matched
    in one batch transaction, where each must still find the ones recorded before it."""
    folder = tmp_path / "batch"
    folder.mkdir()
    original = scene(21)
    original.save(folder / "a_original.png")
    IMAGE_TRANSFORMS["jpeg_q30"](original).save(folder / "b_jpeg.png")
    IMAGE_TRANSFORMS["flip"](original).save(folder / "c_flip.png")
    scene(22).save(folder / "d_other.png")
    r = cli("add", str(folder), "--json")
    assert r.code == 0, r.err
    ids = {Path(o["path"]).stem: o["item_id"] for o in json.loads(r.out)["outcomes"]}
    clusters = json.loads(cli("clusters", "--json").out)["clusters"]
    groups = [sorted(m["id"] for m in c["members"]) for c in clusters]
    assert sorted(ids[n] for n in ("a_original", "b_jpeg", "c_flip")) in groups
    assert not any(ids["d_other"] in g for g in groups)


def test_failed_batch_leaves_an_index_that_is_rebuilt(sqlite_archive: Path, tmp_path: Path, monkeypatch) -> None:
    """A batch transaction that fails after its hashes entered the in-memory index: the index is
    dropped and rebuilt from the database, so no key of an uncommitted row lingers."""
    from hujjat.bootstrap import open_archive
    from hujjat.services import dedup
    from hujjat.services.intake import IntakeRequest, ingest_paths

    folder = tmp_path / "in"
    folder.mkdir()
    scene(31).save(folder / "one.png")
    index_rows = dedup._index_new_rows

    def index_then_fail(tx, engine, quality):  # type: ignore[no-untyped-def]
        index_rows(tx, engine, quality)
        raise RuntimeError("disk gone")

    arch = open_archive(sqlite_archive)
    try:
        engine = arch.ports.fingerprints
        assert engine is not None
        with monkeypatch.context() as patch:
            patch.setattr(dedup, "_index_new_rows", index_then_fail)
            with pytest.raises(RuntimeError, match="disk gone"):
                ingest_paths(arch.ports, [folder], IntakeRequest())
        assert engine.index.synced_to() == (0, 0)  # dropped, not left holding the rolled-back keys
        IMAGE_TRANSFORMS["jpeg_q30"](scene(31)).save(folder / "two.png")
        summary = ingest_paths(arch.ports, [folder], IntakeRequest())
        assert summary.ok
        with arch.ports.uow(read_only=True) as tx:
            committed = list(tx.fingerprints.iter_hashes(-1, engine.settings.min_quality))
        assert engine.index.synced_to() == (len(committed), max(key for key, _ in committed))
    finally:
        arch.close()


def test_a_copy_of_a_telegram_photo_names_the_post_it_first_appeared_in(archive: Path, cli, tmp_path: Path) -> None:
    from io import BytesIO

    from tests import telegram_exports as tg

    photo = BytesIO()
    scene(21).save(photo, "JPEG", quality=90)
    root = {
        "name": "Raid Watch",
        "type": "public_channel",
        "id": 1292077344,
        "messages": [tg.message(5, "raid at the market", photo="photos/photo_5.jpg", width=640, height=480)],
    }
    export = tg.write_export(tmp_path / "export", root, {"photos/photo_5.jpg": photo.getvalue()})
    r = cli("import", "telegram", str(export), "--json")
    assert r.code == 0, r.err
    copy = tmp_path / "copy.png"
    IMAGE_TRANSFORMS["caption"](scene(21)).save(copy)
    added = _add(cli, copy, "a forwarded copy")
    for _ in range(2):  # the second reading is served by the tables reflected for the first
        r = cli("clusters", "--json")
        assert r.code == 0, r.err
        (cluster,) = json.loads(r.out)["clusters"]
        assert cluster["earliest"]["as"] == "posted" and cluster["earliest"]["at"] == "2023-11-14T22:18:20+00:00"
        posted = [s["source"] for m in cluster["members"] for s in m["sources"] if s["kind"] == "post"]
        assert posted == ["channel1292077344/5"]
    r = cli("show", added, "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["near_duplicates"]["first_seen"] == "2023-11-14T22:18:20+00:00"
