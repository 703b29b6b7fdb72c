"""Property: whatever single tampering is done to an archive's files or rows, `verify` notices.

Each example copies a small prepared archive, applies one tampering chosen by hypothesis, and
runs the real verification (full; and quick where the tampering changes sizes or the log).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hujjat.bootstrap import open_archive
from hujjat.entrypoints.cli.main import main
from hujjat.services.audit import verify_archive

TAMPERS = [
    "blob_flip_byte",
    "blob_delete",
    "blob_truncate",
    "blob_stray",
    "entry_edit",
    "entry_edit_rehash",
    "entry_delete",
    "entry_swap",
    "entry_insert_middle",
    "entry_append_unsigned",
    "checkpoint_bad_signature",
    "item_row_changed",
    "item_row_inserted",
    "item_row_deleted",
]


@pytest.fixture(scope="module")
def template() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="hujjat-tamper-"))
    root = base / "archive"
    assert main(["init", str(root)]) == 0
    folder = base / "in"
    folder.mkdir()
    for i in range(5):
        (folder / f"doc{i}.txt").write_bytes(f"evidence {i}\n".encode() * (i + 3))
    assert main(["add", str(folder), "--archive", str(root), "--json"]) == 0
    yield root
    shutil.rmtree(base, ignore_errors=True)


def blobs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "store" / "objects").rglob("*") if p.is_file())


def tamper(root: Path, kind: str, pick: int) -> None:
    db = sqlite3.connect(root / "hujjat.db")
    entries = db.execute("SELECT seq, hash, body FROM custody_entries ORDER BY seq").fetchall()
    i = 1 + pick % (len(entries) - 2)  # a middle entry
    if kind.startswith("blob_"):
        files = blobs(root)
        target = files[pick % len(files)]
        if target.exists():
            target.chmod(0o644)
        if kind == "blob_flip_byte":
            data = bytearray(target.read_bytes())
            data[pick % len(data)] ^= 0x01
            target.write_bytes(bytes(data))
        elif kind == "blob_delete":
            target.unlink()
        elif kind == "blob_truncate":
            target.write_bytes(target.read_bytes()[:-1])
        elif kind == "blob_stray":
            stray = root / "store" / "objects" / "ab" / "cd" / ("abcd" + "0" * 60)
            stray.parent.mkdir(parents=True, exist_ok=True)
            stray.write_bytes(b"planted")
    elif kind == "entry_edit":
        seq, _, body = entries[i]
        db.execute(
            "UPDATE custody_entries SET body=? WHERE seq=?", (body.replace('"actor":"', '"actor":"x'), seq)
        )
    elif kind == "entry_edit_rehash":
        import hashlib

        seq, _, body = entries[i]
        new = body.replace('"actor":"', '"actor":"x')
        db.execute(
            "UPDATE custody_entries SET body=?, hash=? WHERE seq=?",
            (new, hashlib.sha256(new.encode()).hexdigest(), seq),
        )
    elif kind == "entry_delete":
        db.execute("DELETE FROM custody_entries WHERE seq=?", (entries[i][0],))
    elif kind == "entry_swap":
        (s1, h1, b1), (s2, h2, b2) = entries[i], entries[i + 1]
        db.execute("UPDATE custody_entries SET hash='tmp', body=? WHERE seq=?", (b2, s1))
        db.execute("UPDATE custody_entries SET hash=?, body=? WHERE seq=?", (h1, b1, s2))
        db.execute("UPDATE custody_entries SET hash=? WHERE seq=?", (h2, s1))
    elif kind in ("entry_insert_middle", "entry_append_unsigned"):
        import hashlib
        import json

        at = i if kind == "entry_insert_middle" else len(entries)
        prev = entries[at - 1][1]
        if kind == "entry_insert_middle":
            db.execute("UPDATE custody_entries SET seq = seq + 1000 WHERE seq > ?", (at,))
        body = json.dumps(
            {
                "seq": at + 1,
                "prev": prev,
                "time": "2026-01-01T00:00:00.000000Z",
                "actor": "intruder",
                "action": "item.exported",
                "subject": None,
                "details": {},
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        db.execute(
            "INSERT INTO custody_entries (seq, hash, action, subject, body) VALUES (?,?,?,?,?)",
            (at + 1, hashlib.sha256(body.encode()).hexdigest(), "item.exported", None, body),
        )
    elif kind == "checkpoint_bad_signature":
        seq, sig = db.execute("SELECT seq, signature FROM custody_checkpoints ORDER BY seq DESC").fetchone()
        db.execute(
            "UPDATE custody_checkpoints SET signature=? WHERE seq=?", (bytes([sig[0] ^ 1]) + sig[1:], seq)
        )
    elif kind == "item_row_changed":
        db.execute("UPDATE items SET size = size + 1 WHERE rowid = (SELECT min(rowid) FROM items)")
    elif kind == "item_row_inserted":
        db.execute(
            "INSERT INTO items (id, sha256, size, media_type, created_at, sensitivity) "
            "VALUES ('01ZZZZZZZZZZZZZZZZZZZZZZZZ', ?, 7, 'text/plain', '2026-01-01 00:00:00', 'internal')",
            ("abcd" + "0" * 60,),
        )
    elif kind == "item_row_deleted":
        item_id = db.execute("SELECT id FROM items ORDER BY id LIMIT 1").fetchone()[0]
        db.execute("PRAGMA foreign_keys=OFF")
        for table in ("acquisitions", "item_metadata"):
            db.execute(f"DELETE FROM {table} WHERE item_id=?", (item_id,))
        db.execute("DELETE FROM items WHERE id=?", (item_id,))
    db.commit()
    db.close()


def problems(root: Path, quick: bool) -> list[str]:
    arch = open_archive(root)
    try:
        return verify_archive(arch.ports, quick=quick).problems
    finally:
        arch.close()


def test_untouched_archive_verifies(template: Path) -> None:
    assert problems(template, quick=False) == []
    assert problems(template, quick=True) == []


@given(kind=st.sampled_from(TAMPERS), pick=st.integers(min_value=0, max_value=1000))
@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_single_tampering_is_detected(template: Path, kind: str, pick: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "copy"
        shutil.copytree(template, root)
        tamper(root, kind, pick)
        assert problems(root, quick=False), f"{kind} ({pick}) went unnoticed by verify"
        if kind not in ("blob_flip_byte",):
            assert problems(root, quick=True), f"{kind} ({pick}) went unnoticed by verify --quick"


def test_cli_names_the_problem_and_exits_1(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "copy"
    shutil.copytree(template, root)
    tamper(root, "blob_flip_byte", 3)
    capsys.readouterr()
    assert main(["verify", "--archive", str(root)]) == 1
    err = capsys.readouterr().err
    assert "content changed" in err
    os.environ.pop("HUJJAT_DEBUG", None)
