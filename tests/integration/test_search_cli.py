"""`hujjat search` and `hujjat reindex` on both backends: JSON results with the record, exit
codes, evidence intake feeding the index, and reindexing posts from the Telegram tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hujjat.adapters.db.posts_tables import chats, posts
from hujjat.bootstrap import open_archive
from hujjat.domain.ids import new_id


def _add_post(root: Path, message_id: int, text: str) -> None:
    archive = open_archive(root, "tester")
    now = datetime(2024, 5, message_id, 12, tzinfo=UTC)
    try:
        with archive.engine.begin() as conn:
            if message_id == 1:
                conn.execute(chats.insert().values(key="c1", name="Ozodi", type="public_channel",
                                                   username="ozodi", first_seen=now))
            conn.execute(posts.insert().values(
                id=new_id(), chat_key="c1", message_id=message_id, kind="message", date_utc=now, text=text,
                entities=[], extra={}, repairs=[], json_path=f"messages[{message_id}]", content_hash="0" * 64,
                version=1, created_at=now,
            ))
    finally:
        archive.close()


def test_intake_indexes_names_and_text_and_reindex_adds_posts(archive: Path, cli, tmp_path: Path) -> None:
    note = tmp_path / "ҳисобот.txt"
    note.write_text("Муҳоҷирони тоҷик дар бозор боздошт шуданд.", encoding="utf-8")
    assert cli("add", str(note), "--note", "from a monitor in Khujand").code == 0
    found = json.loads(cli("search", "муҳоҷир", "--json").out)
    assert found["total"] == 1 and found["results"][0]["kind"] == "evidence"
    assert json.loads(cli("search", "Khujand", "--json").out)["total"] == 1
    assert json.loads(cli("search", "ҳисобот", "--json").out)["total"] == 1

    _add_post(archive, 1, "Рейды на рынке продолжаются")
    _add_post(archive, 2, "Hujjatlarini tekshirishdi")
    assert json.loads(cli("search", "рейд", "--json").out)["total"] == 0  # not indexed yet
    result = cli("reindex", "--json")
    assert result.code == 0 and json.loads(result.out) == {"indexed": 3}
    found = json.loads(cli("search", "рейд", "--type", "post", "--json").out)
    hit = found["results"][0]
    assert hit["kind"] == "post" and "<mark>Рейды</mark>" in hit["snippet"]
    assert hit["record"]["chat"] == "ozodi" and hit["record"]["message_id"] == 1
    assert hit["record"]["text"] == "Рейды на рынке продолжаются" and hit["record"]["date"].startswith("2024-05-01")
    assert json.loads(cli("search", "hujjat chat:ozodi", "--json").out)["total"] == 1
    dated = json.loads(cli("search", "kind:post", "--from", "2024-05-02", "--to", "2024-05-02", "--json").out)
    assert [h["record"]["message_id"] for h in dated["results"]] == [2]
    facets = json.loads(cli("search", "рейд OR hujjat", "--json").out)["facets"]
    assert {f["value"] for f in facets["month"]} == {"2024-05"}
    text = cli("search", "рейд")
    assert text.code == 0 and "1 result" in text.out


def test_exit_codes(archive: Path, cli) -> None:
    assert cli("search", "nothing-like-this").code == 0
    bad = cli("search", '"')
    assert bad.code == 1 and "empty" in bad.err
    assert cli("search", "NOT рейд").code == 1  # (a leading -word needs `--` before it, as options do)
    assert cli("search", "x" * 10_000).code == 1
    assert cli("search", "x", "--type", "nonsense").code == 2
    assert cli("search", "x", "--from", "yesterday").code == 2
    assert cli("search", "x", "--order", "random").code == 2
    assert cli("search", "x", "--limit", "0").code == 2


def test_refresh_records_indexes_new_edited_and_deleted_posts(archive: Path, cli) -> None:
    from hujjat.services.search import refresh_records

    _add_post(archive, 1, "Облава в общежитии")
    opened = open_archive(archive, "tester")
    try:
        assert refresh_records(opened.ports, "post", [p for p in _post_ids(opened)]) == 1
        assert json.loads(cli("search", "облава", "--json").out)["total"] == 1
        with opened.engine.begin() as conn:
            conn.execute(posts.update().values(text="Проверка документов"))
        refresh_records(opened.ports, "post", _post_ids(opened))
        assert json.loads(cli("search", "облава", "--json").out)["total"] == 0
        assert json.loads(cli("search", "документ", "--json").out)["total"] == 1
        ids = _post_ids(opened)
        with opened.engine.begin() as conn:
            conn.execute(posts.delete())
        assert refresh_records(opened.ports, "post", ids) == 0
        assert json.loads(cli("search", "документ", "--json").out)["total"] == 0
    finally:
        opened.close()


def _post_ids(opened) -> list[str]:
    import sqlalchemy as sa

    with opened.engine.connect() as conn:
        return list(conn.execute(sa.select(posts.c.id)).scalars())


def test_approximate_counts_are_labelled(archive: Path, cli) -> None:
    """Above the exact limit (5,000 matches) the JSON says `approximate` and the text "about"."""
    from hujjat.adapters.search.index import EXACT_LIMIT
    from hujjat.ports.search import SearchDocument

    opened = open_archive(archive, "tester")
    try:
        assert opened.ports.search is not None
        start = datetime(2024, 1, 1, tzinfo=UTC)
        opened.ports.search.upsert_many([
            SearchDocument("post", f"m{n}", f"облава номер {n}", date=start.replace(minute=n % 60, second=n % 59),
                           language="ru", source=f"chat{n % 3}")
            for n in range(EXACT_LIMIT + 300)
        ])
    finally:
        opened.close()
    found = json.loads(cli("search", "облава", "--json").out)
    assert found["approximate"] is True and len(found["results"]) == 20
    assert abs(found["total"] - (EXACT_LIMIT + 300)) < 0.1 * EXACT_LIMIT
    assert json.loads(cli("search", "номер 17", "--json").out)["approximate"] is False
    text = cli("search", "облава")
    assert text.code == 0 and "about " in text.out and "sample" in text.out


def test_text_with_nul_bytes_is_added_and_found(archive: Path, cli, tmp_path: Path) -> None:
    """A NUL past the first 64 KiB (detection reads no further: the file is text/plain).
    PostgreSQL text cannot hold U+0000: the index copy drops it, the stored blob keeps every byte."""
    note = tmp_path / "log.txt"
    data = b"Detained near Vahdat.\n" + b"-" * 70_000 + b"at the\x00checkpoint\x00 of Rasht\n"
    note.write_bytes(data)
    result = cli("add", str(note), "--json")
    assert result.code == 0, result.err
    for word in ("Vahdat", "checkpoint", "Rasht"):
        found = json.loads(cli("search", word, "--json").out)
        assert found["total"] == 1 and found["results"][0]["kind"] == "evidence", word
        assert found["results"][0]["record"]["media_type"] == "text/plain"
    assert data in [p.read_bytes() for p in archive.rglob("*") if p.is_file() and p.stat().st_size == len(data)]


def test_intake_batch_indexes_every_name_of_new_and_known_items(archive: Path, cli, tmp_path: Path) -> None:
    """An intake batch builds the documents of the items it created from what it recorded and
    reads back the items it only acquired again: both carry every name they were added under."""
    first = tmp_path / "first"
    first.mkdir()
    (first / "samarqand.txt").write_text("known before", encoding="utf-8")
    assert cli("add", str(first)).code == 0
    second = tmp_path / "second"
    second.mkdir()
    (second / "bukhara.txt").write_text("known before", encoding="utf-8")  # the same bytes again
    (second / "termez.txt").write_text("new in this batch", encoding="utf-8")
    (second / "navoiy.txt").write_text("new in this batch", encoding="utf-8")  # twice in one batch
    assert cli("add", str(second), "--note", "second visit").code == 0
    known = json.loads(cli("search", "bukhara", "--json").out)
    assert known["total"] == 1 and sorted(known["results"][0]["record"]["names"]) == ["bukhara.txt", "samarqand.txt"]
    assert known["results"][0]["record"]["notes"] == ["second visit"]
    assert json.loads(cli("search", "samarqand", "--json").out)["total"] == 1
    new = json.loads(cli("search", "termez", "--json").out)
    assert new["total"] == 1 and new["results"][0]["record"]["names"] == ["navoiy.txt", "termez.txt"]
    assert json.loads(cli("search", "navoiy second visit", "--json").out)["total"] == 1
