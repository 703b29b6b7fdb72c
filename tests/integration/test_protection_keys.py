"""Keys: passphrases (argon2id), changing the secret, and `encrypt` resuming after a crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hujjat.adapters.blobs.encrypted import EncryptedStore
from hujjat.adapters.crypto.keyring import Secret, create_keyring, load_keyring, save_keyring
from hujjat.domain.errors import UsageError
from tests.integration.protection_support import run


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUJJAT_ARGON2_MEMORY_KIB", "8192")
    monkeypatch.setenv("HUJJAT_ARGON2_TIME_COST", "1")
    monkeypatch.delenv("HUJJAT_KEY_FILE", raising=False)
    monkeypatch.delenv("HUJJAT_PASSPHRASE", raising=False)


def test_keyring_round_trip_and_secret_change(tmp_path: Path) -> None:
    ring = create_keyring(tmp_path, Secret(passphrase="correct horse battery"))
    again = load_keyring(tmp_path, Secret(passphrase="correct horse battery"))
    assert (again.master_key, again.db_key) == (ring.master_key, ring.db_key)
    with pytest.raises(UsageError, match="wrong passphrase"):
        load_keyring(tmp_path, Secret(passphrase="wrong horse"))
    with pytest.raises(UsageError, match="passphrase, not a key file"):
        load_keyring(tmp_path, Secret(key_file=os.urandom(32)))
    key = os.urandom(40)
    save_keyring(again, Secret(key_file=key))
    moved = load_keyring(tmp_path, Secret(key_file=key))
    assert moved.master_key == ring.master_key
    assert "hkdf" in (tmp_path / "encryption.json").read_text()
    assert ring.master_key.hex() not in (tmp_path / "encryption.json").read_text()


def test_passphrase_archive_and_rekey_to_new_passphrase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "arch"
    monkeypatch.setenv("HUJJAT_PASSPHRASE", "a long enough passphrase")
    assert run(capsys, "init", str(root), "--encrypt")[0] == 0
    note = tmp_path / "note.txt"
    note.write_text("secret words")
    assert run(capsys, "add", str(note), "--archive", str(root))[0] == 0
    monkeypatch.setenv("HUJJAT_NEW_PASSPHRASE", "another long passphrase")
    code, out, err = run(capsys, "rekey", "--new-passphrase", "--json", "--archive", str(root))
    assert code == 0, err
    assert json.loads(out)["keys_rewrapped"] == 1
    code, _, err = run(capsys, "verify", "--archive", str(root))
    assert code == 2 and "wrong passphrase" in err
    monkeypatch.setenv("HUJJAT_PASSPHRASE", "another long passphrase")
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err


def test_encrypt_resumes_after_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "arch"
    assert run(capsys, "init", str(root))[0] == 0
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        (folder / f"f{i}.txt").write_text(f"statement number {i} " * 50)
    assert run(capsys, "add", str(folder), "--archive", str(root))[0] == 0
    key = tmp_path / "k"
    key.write_bytes(os.urandom(32))
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key))
    real = EncryptedStore.convert
    calls = {"n": 0}

    def flaky(self: EncryptedStore, sha256: str) -> bool:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(self, sha256)

    monkeypatch.setattr(EncryptedStore, "convert", flaky)
    code, _, err = run(capsys, "encrypt", "--archive", str(root))
    assert code == 1
    # Half converted: still readable and verifiable while converting.
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    monkeypatch.setattr(EncryptedStore, "convert", real)
    code, out, err = run(capsys, "encrypt", "--json", "--archive", str(root))
    assert code == 0, err
    assert json.loads(out)["objects_converted"] == 3
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    for path in root.rglob("*"):
        if path.is_file():
            assert b"statement number" not in path.read_bytes(), path


def test_encrypted_blobs_with_postgresql_records(
    tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "k"
    key.write_bytes(os.urandom(32))
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key))
    root = tmp_path / "arch"
    code, _, err = run(capsys, "init", str(root), "--encrypt", "--database", pg_database)
    assert code == 0, err
    assert 'database = "none"' in (root / "hujjat.toml").read_text()
    note = tmp_path / "note.txt"
    note.write_bytes(b"postgres-side secret 5521")
    code, out, err = run(capsys, "add", str(note), "--json", "--archive", str(root))
    assert code == 0, err
    item = json.loads(out)["outcomes"][0]["item_id"]
    code, out, err = run(capsys, "shred", item, "--reason", "consent withdrawn", "--archive", str(root))
    assert code == 0, err
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    assert json.loads(out)["shredded"] == [item]
    for path in root.rglob("*"):
        if path.is_file():
            assert b"postgres-side secret" not in path.read_bytes(), path


def test_shred_takes_derivatives_unless_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hujjat.processing import synthetic

    key = tmp_path / "k"
    key.write_bytes(os.urandom(32))
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key))
    root = tmp_path / "arch"
    assert run(capsys, "init", str(root), "--encrypt")[0] == 0
    ids = []
    for seed in (1, 2):
        photo = synthetic.make_photo(tmp_path / f"p{seed}.jpg", width=320, height=240, seed=seed, gps=(38.5, 68.7))
        code, out, err = run(capsys, "add", str(photo), "--json", "--archive", str(root))
        assert code == 0, err
        original = json.loads(out)["outcomes"][0]["item_id"]
        code, out, err = run(capsys, "redact", original, "--json", "--archive", str(root))
        assert code == 0, err
        ids.append((original, json.loads(out)["derivative"]["id"]))
    (first, first_derivative), (second, second_derivative) = ids
    code, out, err = run(capsys, "shred", first, "--reason", "consent withdrawn", "--json", "--archive", str(root))
    assert code == 0, err
    assert json.loads(out)["derivatives_shredded"] == [first_derivative]
    code, out, err = run(capsys, "shred", second, "--reason", "danger", "--keep-derivatives", "--json",
                         "--archive", str(root))
    assert code == 0, err
    assert json.loads(out)["derivatives_kept"] == [second_derivative]
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    assert sorted(json.loads(out)["shredded"]) == sorted([first, first_derivative, second])
    assert run(capsys, "export-file", second_derivative, str(tmp_path / "kept.jpg"), "--archive", str(root))[0] == 0


@pytest.mark.parametrize("stop", ["before_rekey", "before_promotion"])
def test_database_key_rotation_recovers_from_an_interruption(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    from hujjat.adapters.crypto import admin

    key = tmp_path / "k"
    key.write_bytes(os.urandom(32))
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key))
    root = tmp_path / "arch"
    a = ("--archive", str(root))
    assert run(capsys, "init", str(root), "--encrypt")[0] == 0
    (tmp_path / "note.txt").write_text("database rotation statement")
    code, out, err = run(capsys, "add", str(tmp_path / "note.txt"), "--note", "rotation-note-3310", *a)
    assert code == 0, out + err
    db = root / "hujjat.db"
    first = load_keyring(root / "keys", Secret(key_file=key.read_bytes())).db_key

    # Interrupted: after the new key was saved as database_next (before PRAGMA rekey), or after
    # the file was re-encrypted (before the new key became the database key).
    if stop == "before_rekey":
        def broken(path: Path, ring: object) -> bytes:
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(admin, "database_key_in_use", broken)
    else:
        real_save = admin.save_keyring
        calls = {"n": 0}

        def failing_save(ring: object, secret: Secret) -> None:
            calls["n"] += 1
            if calls["n"] == 4:  # two for the master key, one for database_next, then this one
                raise OSError(28, "No space left on device")
            real_save(ring, secret)  # type: ignore[arg-type]

        monkeypatch.setattr(admin, "save_keyring", failing_save)
    code, _, err = run(capsys, "rekey", "--database", *a)
    assert code == 1, err
    monkeypatch.undo()
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key))
    ring = load_keyring(root / "keys", Secret(key_file=key.read_bytes()))
    assert ring.db_key == first and ring.db_key_next is not None
    assert admin._opens_with(db, first) is (stop == "before_rekey")
    assert admin._opens_with(db, ring.db_key_next) is (stop == "before_promotion")
    # The archive opens with whichever key the file uses, and verifies.
    code, out, err = run(capsys, "verify", "--json", *a)
    assert code == 0 and json.loads(out)["ok"], out + err
    # Running the command again finishes the rotation.
    code, out, err = run(capsys, "rekey", "--database", "--json", *a)
    assert code == 0, err
    ring = load_keyring(root / "keys", Secret(key_file=key.read_bytes()))
    assert ring.db_key != first and ring.db_key_next is None
    assert not admin._opens_with(db, first) and admin._opens_with(db, ring.db_key)
    code, out, err = run(capsys, "show", "--json", json.loads(run(capsys, "list", "--json", *a)[1])["items"][0]["id"], *a)
    assert code == 0 and "rotation-note-3310" in out, err
    code, out, err = run(capsys, "verify", "--json", *a)
    assert code == 0 and json.loads(out)["ok"], out + err
    assert b"rotation-note-3310" not in db.read_bytes()


def test_database_rekey_needs_sqlcipher(
    tmp_path: Path, pg_database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "k"
    key.write_bytes(os.urandom(32))
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key))
    root = tmp_path / "arch"
    assert run(capsys, "init", str(root), "--encrypt", "--database", pg_database)[0] == 0
    code, _, err = run(capsys, "rekey", "--database", "--archive", str(root))
    assert code == 2 and "not SQLCipher" in err
