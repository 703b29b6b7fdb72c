"""Encryption at rest: init --encrypt, encrypt (conversion), rekey, shred, verify; and a byte-level
search of the whole archive folder for the plaintext of evidence and restricted fields."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hujjat.processing import synthetic
from tests.integration.protection_support import key_file, run

__all__ = ["key_file"]  # a fixture, used by name

MARKER = b"WITNESS-Zarina-Karimova-7731"
NOTE = "interview-note-Dushanbe-safehouse-4419"
CAMERA = "WitnessPhone-Model-X9"
RESTRICTED = "Restricted detail: the informant lives at Rudaki 118"


def hits(root: Path, needle: bytes) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            found.append(str(path.relative_to(root)))
    return found


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "statement.txt").write_bytes(b"statement by " + MARKER + b"\n" * 10)
    (folder / "big.bin").write_bytes(os.urandom(3 * (1 << 20) + 5) + MARKER)
    (folder / "empty.dat").write_bytes(b"")
    return folder


def test_encrypted_archive_keeps_no_plaintext(
    tmp_path: Path,
    key_file: Path,
    evidence: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "arch"
    code, out, err = run(capsys, "init", str(root), "--encrypt", "--json")
    assert code == 0, err
    assert json.loads(out)["encrypted"] is True
    code, out, err = run(capsys, "add", str(evidence), "--note", NOTE, "--json", "--archive", str(root))
    assert code == 0, err
    assert json.loads(out)["added"] == 3
    photo = synthetic.make_photo(evidence.parent / "phone.jpg", make=CAMERA, gps=(38.5598, 68.787))
    code, out, err = run(capsys, "add", str(photo), "--archive", str(root))
    assert code == 0, err
    code, out, err = run(capsys, "incident", "new", "--title", "Detention", "--type", "raid", "--subtype",
                         "dormitory-raid", "--date", "2024-03-05", "--place", "Dushanbe", "--description",
                         RESTRICTED, "--sensitivity", "restricted", "--archive", str(root))
    assert code == 0, err
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    report = json.loads(out)
    assert report["ok"] and report["items"] == 4
    assert not (root / "hujjat.db").read_bytes().startswith(b"SQLite format 3")  # SQLCipher
    for needle in (MARKER, NOTE.encode(), b"statement.txt", CAMERA.encode(), RESTRICTED.encode(), b"Detention"):
        assert hits(root, needle) == [], needle
    # Reading through the store gives the original bytes back.
    out_file = tmp_path / "copy.txt"
    code, out, err = run(capsys, "list", "--json", "--archive", str(root))
    assert code == 0, err
    listed = json.loads(out)
    items = listed["items"] if isinstance(listed, dict) else listed
    statement = next(i for i in items if i["size"] == len(b"statement by " + MARKER + b"\n" * 10))
    code, _, err = run(capsys, "export-file", statement["id"], str(out_file), "--archive", str(root))
    # Reading back through the encrypted store gives the original bytes.
    assert code == 0, err
    assert MARKER in out_file.read_bytes()
    # Without the secret: the database cannot be opened, but the quick check needs no key.
    monkeypatch.delenv("HUJJAT_KEY_FILE")
    code, out, err = run(capsys, "list", "--archive", str(root))
    assert code == 2 and "encrypted" in err
    code, out, err = run(capsys, "verify", "--quick", "--json", "--archive", str(root))
    assert code == 0, err
    assert json.loads(out)["keyless"] is True
    # Damage one object: the key-free check sees a truncation, the full check any changed byte.
    objects = sorted(p for p in (root / "store" / "objects").rglob("*") if p.is_file())
    victim = max(objects, key=lambda p: p.stat().st_size)
    victim.chmod(0o644)
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key_file))
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 1
    assert any("authentication" in p for p in json.loads(out)["problems"])
    victim.write_bytes(bytes(data[:-3]))
    monkeypatch.delenv("HUJJAT_KEY_FILE")
    code, out, err = run(capsys, "verify", "--quick", "--json", "--archive", str(root))
    assert code == 1 and "truncated" in out


def test_wrong_secret_is_refused(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "arch"
    assert run(capsys, "init", str(root), "--encrypt")[0] == 0
    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(40))
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(other))
    code, _, err = run(capsys, "list", "--archive", str(root))
    assert code == 2 and "wrong passphrase or key file" in err
    monkeypatch.delenv("HUJJAT_KEY_FILE")
    monkeypatch.setenv("HUJJAT_PASSPHRASE", "not the key file")
    code, _, err = run(capsys, "list", "--archive", str(root))
    assert code == 2 and "key file" in err


def test_convert_rekey_and_shred(
    tmp_path: Path,
    key_file: Path,
    evidence: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HUJJAT_KEY_FILE")
    root = tmp_path / "arch"
    assert run(capsys, "init", str(root))[0] == 0
    code, out, err = run(capsys, "add", str(evidence), "--note", NOTE, "--json", "--archive", str(root))
    assert code == 0, err
    assert hits(root, MARKER)  # plaintext archive: the evidence is readable on disk
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key_file))
    code, out, err = run(capsys, "encrypt", "--json", "--archive", str(root))
    assert code == 0, err
    assert json.loads(out) == {"objects_converted": 3, "database_encrypted": True, "fields_sealed": {}}
    assert hits(root, MARKER) == [] and hits(root, NOTE.encode()) == []
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    # A second run is harmless.
    code, _, err = run(capsys, "encrypt", "--archive", str(root))
    assert code == 2 and "already encrypted" in err

    # Rekey to a new key file: blobs are untouched, the old key no longer opens the archive.
    before = {p: p.stat().st_mtime_ns for p in (root / "store" / "objects").rglob("*") if p.is_file()}
    new_key = tmp_path / "new.key"
    new_key.write_bytes(os.urandom(32))
    code, out, err = run(capsys, "rekey", "--new-key-file", str(new_key), "--json", "--archive", str(root))
    assert code == 0, err
    assert json.loads(out)["keys_rewrapped"] == 3
    assert before == {p: p.stat().st_mtime_ns for p in before}
    code, _, err = run(capsys, "verify", "--archive", str(root))
    assert code == 2
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(new_key))
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err

    # Shred the statement: verify passes and names it; its bytes cannot be read back.
    code, out, err = run(capsys, "list", "--json", "--archive", str(root))
    listed = json.loads(out)
    items = listed["items"] if isinstance(listed, dict) else listed
    statement = next(i for i in items if i["size"] == len(b"statement by " + MARKER + b"\n" * 10))
    code, out, err = run(
        capsys,
        "shred",
        statement["id"],
        "--reason",
        "witness withdrew consent",
        "--json",
        "--archive",
        str(root),
    )
    assert code == 0, err
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    assert json.loads(out)["shredded"] == [statement["id"]]
    code, _, err = run(capsys, "export-file", statement["id"], str(tmp_path / "x"), "--archive", str(root))
    assert code == 1 and "shredded" in err
    code, _, err = run(capsys, "shred", statement["id"], "--reason", "again", "--archive", str(root))
    assert code == 2
    code, out, err = run(capsys, "add", str(evidence / "statement.txt"), "--json", "--archive", str(root))
    assert "shredded" in out + err
    for needle in (MARKER, NOTE.encode()):
        assert hits(root, needle) == []
    code, out, _ = run(capsys, "show", statement["id"], "--json", "--archive", str(root))
    assert "witness withdrew consent" in out
