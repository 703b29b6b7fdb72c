"""The Telegram export reader: text flattening, repairs of known-broken JSON, export shapes,
dates and ids across exporter versions, and safe handling of paths and zips (no archive needed)."""

from __future__ import annotations

import json
import os
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hujjat.domain.posts import MediaStatus, PostKind, PostRecord, SkippedMessage
from hujjat.intake.telegram import ExportLimits, open_export
from hujjat.intake.telegram.archive_files import ExportError, extract_zip, locate
from hujjat.intake.telegram.messages import chat_key, peer_id
from hujjat.intake.telegram.repair import repair_line
from hujjat.intake.telegram.text import flatten_text
from tests import telegram_exports as tx

ENTITY_TYPES = ["mention", "hashtag", "link", "text_link", "bold", "custom_emoji", "spoiler"]
runs = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.builds(lambda t, k: {"type": k, "text": t, "href": "https://x.example"}, st.text(max_size=8), st.sampled_from(ENTITY_TYPES)),
    ),
    max_size=8,
)


def records(export_dir: Path, **kwargs: object) -> list[PostRecord]:
    with open_export(export_dir, **kwargs) as export:  # type: ignore[arg-type]
        found = list(export.records())
    assert all(isinstance(r, PostRecord) for r in found)
    return found  # type: ignore[return-value]


@given(runs)
def test_flattening_concatenates_runs_and_entities_point_into_the_text(parts: list[object]) -> None:
    text, entities = flatten_text(parts)
    assert text == "".join(p if isinstance(p, str) else p["text"] for p in parts)  # type: ignore[index]
    assert len(entities) == sum(1 for p in parts if isinstance(p, dict))
    for entity in entities:
        assert text[entity["offset"] : entity["offset"] + entity["length"]] == entity["text"]


@given(runs)
def test_text_entities_and_text_array_agree(parts: list[object]) -> None:
    as_objects = [p if isinstance(p, dict) else {"type": "plain", "text": p} for p in parts]
    assert flatten_text(parts) == flatten_text("ignored", as_objects)


@given(st.text())
def test_plain_string_text_has_no_entities(value: str) -> None:
    assert flatten_text(value) == (value, [])


@given(st.text(), st.text(min_size=1, max_size=10))
def test_repair_leaves_valid_exporter_lines_alone(value: str, key: str) -> None:
    line = f" {json.dumps(key, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)},\n".encode()
    assert repair_line(line, Counter()) == line


@given(st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=5), st.text(max_size=5))
def test_x_escapes_become_json_escapes(controls: str, tail: str) -> None:
    raw = "".join(f"\\x{ord(c):02x}" for c in controls) + json.dumps(tail, ensure_ascii=False)[1:-1]
    fixed = repair_line(f'"text": "{raw}"'.encode(), Counter())
    assert json.loads(b"{" + fixed + b"}")["text"] == controls + tail


def test_single_chat_channel_fields(tmp_path: Path) -> None:
    found = records(tx.channel_export(tmp_path / "c"), usernames={"": "raidwatch"})
    by_id = {r.message_id: r for r in found}
    assert len(found) == 10
    assert by_id[1].kind is PostKind.SERVICE and by_id[1].action == "create_channel"
    assert by_id[7].extra["message_id"] == 2
    post = by_id[2]
    assert post.chat.key == "channel1292077344"
    assert post.text == "Raid reported in #Kherson — details here"
    assert [e["type"] for e in post.entities] == ["hashtag", "text_link"]
    assert post.entities[1]["href"] == "https://example.org/report"
    assert post.reactions == [{"type": "emoji", "count": 5, "emoji": "😢"}]
    assert post.public_link == "https://t.me/raidwatch/2"
    assert post.json_path == "messages[1]"
    assert post.date_utc == datetime.fromtimestamp(1700000120, UTC)
    assert by_id[6].forwarded_from == "Kherson Today" and by_id[6].reply_to_message_id == 2
    video = by_id[3].media[0]
    assert video.placeholder == tx.PLACEHOLDER and video.declared_size == 73400320
    assert video.media_type == "video_file" and video.mime_type == "video/mp4"
    assert [m.role for m in by_id[10].media] == ["file", "thumbnail"]


def test_full_account_export_paths_and_chats(tmp_path: Path) -> None:
    found = records(tx.account_export(tmp_path / "a"))
    assert [r.json_path for r in found] == [
        "chats.list[0].messages[0]",
        "chats.list[0].messages[1]",
        "chats.list[1].messages[0]",
        "chats.list[1].messages[1]",
        "left_chats.list[0].messages[0]",
    ]
    assert [r.chat.key for r in found] == ["user4242"] * 2 + ["channel1500000000"] * 2 + ["chat555"]
    assert found[3].kind is PostKind.SERVICE and found[3].from_id == "channel1292077344"
    assert found[0].public_link is None


def test_legacy_export_ids_and_local_dates(tmp_path: Path) -> None:
    folder = tx.write_export(tmp_path / "old", tx.LEGACY_2020)
    with open_export(folder) as export:
        assert any("offset 2^33" in note for note in export.repairs)
        (post,) = list(export.records())
    assert isinstance(post, PostRecord)
    assert post.chat.key == "channel1292077344"
    assert post.from_id == "channel1292077344"
    assert post.date_utc is None and post.date_local == "2020-05-01T12:00:00"
    (shifted,) = records(folder, utc_offset=timedelta(hours=3))
    assert shifted.date_utc == datetime(2020, 5, 1, 9, 0, tzinfo=UTC)


def test_chat_key_and_peer_id_rules() -> None:
    assert chat_key(9882011936, "public_channel", "x")[:2] == ("channel1292077344", 1292077344)
    assert chat_key(1292077344, "public_channel", "x")[:2] == ("channel1292077344", 1292077344)
    assert chat_key(4294967296 + 555, "private_group", "g")[:2] == ("chat555", 555)
    assert chat_key(5000000000, "personal_chat", "big user id")[0] == "user5000000000"
    assert peer_id("user12") == ("user12", False)
    assert peer_id(12) == ("user12", True)


def test_broken_2022_export_is_repaired(tmp_path: Path) -> None:
    folder = tx.write_raw(tmp_path / "b", tx.BROKEN_2022)
    with open_export(folder) as export:
        assert export.repaired
        assert any("unquoted" in r for r in export.repairs) and any("xHH" in r for r in export.repairs)
        first, second = list(export.records())
    assert isinstance(first, PostRecord) and isinstance(second, PostRecord)
    assert first.entities[0]["document_id"] == "video_files/sticker (2).webm"
    assert second.text == "bell\x07 and tab\t"


def test_duplicate_keys_are_kept(tmp_path: Path) -> None:
    (post,) = records(tx.write_raw(tmp_path / "d", tx.DUPLICATE_KEYS))
    assert post.text == ""
    assert post.extra["duplicate_keys"] == {"text": ["Gift message text"]}
    assert post.repairs and "duplicate keys text" in post.repairs[0]
    assert post.extra["gift_id"] == 5170145012310081615


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"name": "x", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "mess', "not valid JSON"),
        ("", "not valid JSON"),
        ('{"hello": "world"}', "not a Telegram Desktop export"),
        ("[1, 2]", "not a Telegram Desktop export"),
    ],
)
def test_bad_json_is_refused_whole(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        open_export(tx.write_raw(tmp_path / "bad", text))


def test_message_without_id_is_skipped_with_reason(tmp_path: Path) -> None:
    root = {"name": "x", "type": "personal_chat", "id": 1, "messages": [{"type": "message", "text": "?"}, tx.message(2, "ok")]}
    with open_export(tx.write_export(tmp_path / "s", root)) as export:
        found = list(export.records())
    assert isinstance(found[0], SkippedMessage) and "no numeric id" in found[0].reason
    assert isinstance(found[1], PostRecord)


def test_unknown_fields_are_kept(tmp_path: Path) -> None:
    root = {"name": "x", "type": "personal_chat", "id": 1, "future": 1,
            "messages": [tx.message(1, "t", brand_new_field={"a": 1.5}, location_information={"latitude": 50.45, "longitude": 30.52})]}  # fmt: skip
    (post,) = records(tx.write_export(tmp_path / "u", root))
    assert post.extra["brand_new_field"] == {"a": "1.5"}
    assert post.extra["location_information"] == {"latitude": "50.45", "longitude": "30.52"}


def test_media_paths_never_leave_the_export(tmp_path: Path) -> None:
    root = (tmp_path / "export").resolve()
    (root / "files").mkdir(parents=True)
    (root / "files" / "ok.bin").write_bytes(b"ok")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, root / "files" / "out.bin")
    os.symlink(root / "files" / "ok.bin", root / "files" / "in.bin")
    os.mkfifo(root / "files" / "fifo")
    assert locate(root, "files/ok.bin").path == root / "files" / "ok.bin"
    assert locate(root, "files/in.bin").path == root / "files" / "ok.bin"
    cases = {
        "../secret.txt": MediaStatus.REFUSED,
        "../../etc/passwd": MediaStatus.REFUSED,
        "/etc/passwd": MediaStatus.REFUSED,
        "C:/Windows/win.ini": MediaStatus.REFUSED,
        "files\\..\\..\\secret.txt": MediaStatus.REFUSED,
        "files/out.bin": MediaStatus.REFUSED,
        "files/fifo": MediaStatus.REFUSED,
        "files/absent.bin": MediaStatus.MISSING,
    }
    for path, status in cases.items():
        found = locate(root, path)
        assert found.path is None and found.status is status, path


def _evil_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("export/result.json", json.dumps({"name": "x", "type": "personal_chat", "id": 1, "messages": [tx.message(1, "z")]}))
        zf.writestr("export/photos/p.jpg", tx.JPEG)
        zf.writestr("../escape.txt", "x")
        zf.writestr("/abs.txt", "x")
        link = zipfile.ZipInfo("export/link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        zf.writestr("export/bomb.bin", b"\x00" * (32 * 1024 * 1024))
    return path


def test_zip_extraction_skips_unsafe_entries(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    skipped = extract_zip(_evil_zip(tmp_path / "evil.zip"), dest, ExportLimits(max_ratio=100, ratio_floor_bytes=1024))
    reasons = " | ".join(skipped)
    assert "../escape.txt" in reasons and "/abs.txt" in reasons and "symlink" in reasons and "ratio" in reasons
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "export/photos/p.jpg",
        "export/result.json",
    ]
    assert not (tmp_path / "escape.txt").exists()


def test_zip_export_opens_and_cleans_up(tmp_path: Path) -> None:
    archive = tx.zip_folder(tx.channel_export(tmp_path / "c"), tmp_path / "export.zip")
    with open_export(archive) as export:
        temporary = export.temporary
        assert temporary is not None and temporary.exists()
        found = list(export.records())
        photo = next(r for r in found if isinstance(r, PostRecord) and r.message_id == 2).media[0]
        assert export.locate(photo).path is not None
    assert len(found) == 10 and not temporary.exists()


def test_zip_over_total_limit_is_refused(tmp_path: Path) -> None:
    archive = tx.zip_folder(tx.channel_export(tmp_path / "c"), tmp_path / "export.zip")
    with pytest.raises(ExportError, match="over the limit"):
        open_export(archive, limits=ExportLimits(max_total_bytes=100))


def test_not_a_zip_nor_export(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"no result\.json"):
        open_export(tmp_path)
    with pytest.raises(ExportError, match="no such file"):
        open_export(tmp_path / "absent")


def test_duplicate_keys_in_account_exports(tmp_path: Path) -> None:
    inner = tx.DUPLICATE_KEYS.replace("\n", "\n  ")
    text = '{"about": "x", "chats": {"about": "y", "list": [' + inner + "]}}"
    (post,) = records(tx.write_raw(tmp_path / "acc", text))
    assert post.json_path == "chats.list[0].messages[0]"
    assert post.extra["duplicate_keys"] == {"text": ["Gift message text"]}
