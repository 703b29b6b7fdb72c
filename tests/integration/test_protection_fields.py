"""Field-level encryption on PostgreSQL: an encrypted archive on a database server seals notes,
incident records, versions, reviews, link notes and custody bodies; the raw rows hold none of the
plaintext, the CLI shows it decrypted, and restricted records stay out of the search index."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import psycopg
import pytest

from hujjat.processing import synthetic
from tests.integration.protection_support import key_file, run

__all__ = ["key_file"]  # a fixture, used by name

NOTE = "interview-note-Khujand-safehouse-5521"
RESTRICTED_TITLE = "Abduction of Farrukh Nazarov"
RESTRICTED_TEXT = "informant lives at Somoni 42 flat 7"
INTERNAL_TEXT = "Dilnoza Rahimova gave testimony"
LINK_NOTE = "link-note-shows-Nazarov-face"
REVIEW_NOTE = "review-note-called-Rahimova-back"
CAMERA = "WitnessPhone-Model-Q7"
SECRETS = (NOTE, RESTRICTED_TITLE, RESTRICTED_TEXT, INTERNAL_TEXT, LINK_NOTE, REVIEW_NOTE, CAMERA)


def dump(url: str) -> dict[str, str]:
    """Every row of every table of the database, as PostgreSQL prints it."""
    found: dict[str, str] = {}
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
        for table in tables:
            rows = conn.execute(f'SELECT t::text FROM "{table}" t').fetchall()
            found[table] = "\n".join(r[0] for r in rows)
    return found


def test_postgresql_fields_are_sealed(
    tmp_path: Path, key_file: Path, pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "arch"
    a = ("--archive", str(root))
    assert run(capsys, "init", str(root), "--encrypt", "--database", pg_database)[0] == 0
    photo = tmp_path / "in" / "statement.bin"
    photo.parent.mkdir()
    photo.write_bytes(os.urandom(2000))
    code, out, err = run(capsys, "add", str(photo), "--note", NOTE, "--json", *a)
    assert code == 0, err
    camera = synthetic.make_photo(tmp_path / "in" / "phone.jpg", make=CAMERA, gps=(38.5598, 68.787))
    code, _, err = run(capsys, "add", str(camera), *a)
    assert code == 0, err
    code, out, err = run(capsys, "list", "--json", *a)
    listed = json.loads(out)
    items = listed["items"] if isinstance(listed, dict) else listed
    item_id = next(i["id"] for i in items if i["size"] == 2000)
    photo_id = next(i["id"] for i in items if i["size"] != 2000)
    incident_ids = []
    for title, text, level in ((RESTRICTED_TITLE, RESTRICTED_TEXT, "restricted"), ("Raid", INTERNAL_TEXT, "internal")):
        code, out, err = run(capsys, "incident", "new", "--title", title, "--type", "raid", "--subtype",
                             "dormitory-raid", "--date", "2024-03-05", "--place", "Dushanbe", "--description",
                             text, "--sensitivity", level, "--json", *a)
        assert code == 0, err
        incident_ids.append(json.loads(out)["id"])
    restricted, internal = incident_ids
    assert run(capsys, "incident", "link", restricted, item_id, "--role", "depicts", "--note", LINK_NOTE, *a)[0] == 0
    code, _, err = run(capsys, "incident", "review", internal, "--state", "corroborated", "--note", REVIEW_NOTE, *a)
    assert code == 0, err
    code, _, err = run(capsys, "incident", "edit", restricted, "--description", RESTRICTED_TEXT + " (checked)", *a)
    assert code == 0, err

    # The raw rows: no sensitive plaintext outside the search index, and nothing restricted in it.
    rows = dump(pg_database)
    for table, text in rows.items():
        for secret in SECRETS:
            if table.startswith("search_") and secret in (NOTE, INTERNAL_TEXT, REVIEW_NOTE):
                continue  # what non-restricted records are found by (docs/protection.md)
            assert secret not in text, (table, secret)
    assert "Dushanbe" not in rows["incidents"] and "hjf1:" in rows["custody_entries"]

    # Through the archive everything reads back decrypted, and the custody chain still verifies.
    code, out, err = run(capsys, "incident", "show", restricted, "--json", *a)
    assert code == 0, err
    shown = json.dumps(json.loads(out), ensure_ascii=False)
    for secret in (RESTRICTED_TITLE, RESTRICTED_TEXT, LINK_NOTE):
        assert secret in shown
    code, out, err = run(capsys, "incident", "show", internal, "--json", *a)
    assert REVIEW_NOTE in out and INTERNAL_TEXT in out
    code, out, err = run(capsys, "show", item_id, "--json", *a)
    assert code == 0 and NOTE in out, err
    code, out, err = run(capsys, "show", photo_id, "--json", *a)
    assert code == 0 and CAMERA in out, err
    code, out, err = run(capsys, "verify", "--json", *a)
    assert code == 0 and json.loads(out)["ok"], out + err
    code, out, err = run(capsys, "incident", "check", *a)
    assert code == 0, out + err

    # Search: the internal incident is found through the plain index; the restricted one through
    # the blind index (whole words, hashed terms), and only by users cleared for it.
    code, out, err = run(capsys, "search", "Rahimova", "--json", *a)
    assert code == 0 and internal in out, err
    for query, found in (("Nazarov", True), ("somoni flat", True), ('"flat somoni"', True),
                         ("Nazarov -somoni", False), ("Nazarov OR nobodyknows", True), ("Nazar*", False),
                         ("kind:incident Nazarov", True), ("kind:post Nazarov", False), ("place:Dushanbe Nazarov", False)):
        code, out, err = run(capsys, "search", query, "--json", *a)
        assert code == 0, err
        assert (restricted in out) is found, (query, out)
    code, out, err = run(capsys, "search", "Nazarov", "--json", *a)
    hit = next(h for h in json.loads(out)["results"] if h["id"] == restricted)
    assert hit["title"] == RESTRICTED_TITLE and "<mark>Nazarov</mark>" in hit["snippet"]
    from hujjat.bootstrap import open_archive
    from hujjat.domain.accounts import Role, User
    from hujjat.services import access

    opened = open_archive(root)
    try:
        viewer = User("v", "viewer", Role.VIEWER, "hash", restricted_access=False)
        cleared = User("c", "cleared", Role.VIEWER, "hash", restricted_access=True)
        hidden = access.visible_search(opened.ports, viewer, "Nazarov", via=None)
        assert hidden.total == 0 and not hidden.hits and "incident" not in json.dumps(hidden.facets)
        shown_to = access.visible_search(opened.ports, cleared, "Nazarov", via=None)
        assert [h.record_id for h in shown_to.hits] == [restricted] and shown_to.total == 1
        assert opened.ports.search is not None  # the restricted one in the blind index, the other in the plain one
        assert opened.ports.search.indexed("incident", [restricted, internal, "no-such-id"]) == {restricted, internal}
    finally:
        opened.close()
    code, _, err = run(capsys, "reindex", *a)
    assert code == 0, err
    code, out, err = run(capsys, "search", "Nazarov", "--json", *a)
    assert restricted in out
    index = dump(pg_database)
    for table in ("search_documents", "search_texts", "protected_search_documents", "protected_search_terms"):
        assert RESTRICTED_TEXT not in index[table] and "Nazarov" not in index[table] and "Somoni" not in index[table]
    tokens = index["protected_search_terms"].splitlines()
    assert tokens and all(re.fullmatch(r"\([0-9a-f]{32},\d+\)", row) for row in tokens), tokens  # opaque only


def test_encrypting_a_postgresql_archive_seals_stored_values_in_resumable_batches(
    tmp_path: Path, key_file: Path, pg_database: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hujjat.adapters.db import field_sealing
    from hujjat.adapters.db.field_cipher import FieldCipher

    monkeypatch.delenv("HUJJAT_KEY_FILE")
    root = tmp_path / "arch"
    a = ("--archive", str(root))
    assert run(capsys, "init", str(root), "--database", pg_database)[0] == 0
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"old{i}.bin").write_bytes(os.urandom(100 + i))
    assert run(capsys, "add", str(folder), "--note", NOTE, *a)[0] == 0
    camera = synthetic.make_photo(tmp_path / "phone.jpg", make=CAMERA, gps=(38.5598, 68.787))
    assert run(capsys, "add", str(camera), *a)[0] == 0
    code, out, err = run(capsys, "list", "--json", *a)
    listed = json.loads(out)
    items = listed["items"] if isinstance(listed, dict) else listed
    item_id = next(i["id"] for i in items if i["size"] == 100)
    incident_ids = []
    for title, text, level in ((RESTRICTED_TITLE, RESTRICTED_TEXT, "restricted"), ("Raid", INTERNAL_TEXT, "internal")):
        code, out, err = run(capsys, "incident", "new", "--title", title, "--type", "raid", "--subtype",
                             "dormitory-raid", "--date", "2024-03-05", "--place", "Dushanbe", "--description",
                             text, "--sensitivity", level, "--json", *a)
        assert code == 0, err
        incident_ids.append(json.loads(out)["id"])
    restricted, internal = incident_ids
    assert run(capsys, "incident", "link", restricted, item_id, "--role", "depicts", "--note", LINK_NOTE, *a)[0] == 0
    assert run(capsys, "incident", "review", internal, "--state", "corroborated", "--note", REVIEW_NOTE, *a)[0] == 0
    assert run(capsys, "incident", "edit", restricted, "--description", RESTRICTED_TEXT + " (checked)", *a)[0] == 0
    before = dump(pg_database)
    assert all(s in "".join(before.values()) for s in SECRETS)
    code, out, err = run(capsys, "search", "Nazarov", "--json", *a)
    assert restricted in out  # a plaintext archive indexes restricted records

    # `encrypt`, two rows per batch, fails part-way through the sealing (disk full, killed, ...).
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key_file))
    monkeypatch.setattr(field_sealing, "DEFAULT_BATCH", 2)
    real_seal = FieldCipher.seal
    calls = {"n": 0}

    def failing_seal(self: FieldCipher, value: str | None, label: str) -> str | None:
        if label == "custody_entries.body":
            calls["n"] += 1
            if calls["n"] == 5:
                raise OSError(28, "No space left on device")
        return real_seal(self, value, label)

    monkeypatch.setattr(FieldCipher, "seal", failing_seal)
    code, _, err = run(capsys, "encrypt", *a)
    assert code == 1 and "No space left" in err
    assert 'state = "converting"' in (root / "hujjat.toml").read_text()
    custody = dump(pg_database)["custody_entries"]
    assert custody.count("hjf1:") == 4  # the two committed batches; the failed one rolled back
    # Half sealed: everything still reads back and verifies.
    code, out, err = run(capsys, "incident", "show", restricted, "--json", *a)
    assert code == 0 and RESTRICTED_TEXT in out, err
    code, out, err = run(capsys, "verify", "--json", *a)
    assert code == 0 and json.loads(out)["ok"], out + err

    monkeypatch.setattr(FieldCipher, "seal", real_seal)
    code, out, err = run(capsys, "encrypt", "--json", *a)
    assert code == 0, err
    sealed = json.loads(out)["fields_sealed"]
    assert sealed["acquisitions.note"] == 0  # done by the first run, not sealed twice
    assert sealed["custody_entries.body"] > 0 and sealed["incidents.title"] == 0
    rows = dump(pg_database)
    for table, text in rows.items():
        for secret in SECRETS:
            if table.startswith("search_") and secret in (NOTE, INTERNAL_TEXT, REVIEW_NOTE):
                continue  # what non-restricted records are found by (docs/protection.md)
            assert secret not in text, (table, secret)
    assert "Dushanbe" not in rows["incidents"] and "Dushanbe" not in rows["incident_versions"]
    code, out, err = run(capsys, "incident", "show", restricted, "--json", *a)
    shown = json.dumps(json.loads(out), ensure_ascii=False)
    assert all(s in shown for s in (RESTRICTED_TITLE, RESTRICTED_TEXT, LINK_NOTE))
    code, out, err = run(capsys, "incident", "show", internal, "--json", *a)
    assert REVIEW_NOTE in out and INTERNAL_TEXT in out
    code, out, err = run(capsys, "show", item_id, "--json", *a)
    assert code == 0 and NOTE in out, err
    code, out, err = run(capsys, "verify", "--json", *a)
    assert code == 0 and json.loads(out)["ok"], out + err
    code, out, err = run(capsys, "incident", "check", *a)
    assert code == 0, out + err
    # New values are sealed as they are written.
    (folder / "new.bin").write_bytes(os.urandom(200))
    assert run(capsys, "add", str(folder / "new.bin"), "--note", "new-note-7781", *a)[0] == 0
    assert "new-note-7781" not in dump(pg_database)["acquisitions"]
