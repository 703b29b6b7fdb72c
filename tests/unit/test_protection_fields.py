"""Sealing single database values (adapters/db/field_cipher.py): round trips, pass-through for
plaintext archives and old values, and refusal of moved, changed or foreign values."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hujjat.adapters.crypto.keyring import Keyring
from hujjat.adapters.db.field_cipher import PASS_THROUGH, PREFIX, FieldCipher, cipher_for, field_key
from hujjat.domain.errors import ArchiveError


def _cipher(db_key: bytes | None = None) -> FieldCipher:
    key_id, key = field_key(db_key or os.urandom(32))
    return FieldCipher({key_id: key}, key_id)


@given(st.text())
def test_round_trip(text: str) -> None:
    cipher = _cipher(b"k" * 32)
    sealed = cipher.seal(text, "t.c")
    assert sealed is not None and sealed.startswith(PREFIX)
    # A short text can occur in base64 by chance; a real plaintext (8+ characters) must not.
    assert len(text) < 8 or text not in sealed
    assert cipher.open_(sealed, "t.c") == text


def test_pass_through_and_plain_values() -> None:
    assert PASS_THROUGH.seal("note", "t.c") == "note" and not PASS_THROUGH.active
    assert PASS_THROUGH.seal_json({"a": 1}, "t.r") == {"a": 1}
    cipher = _cipher()
    assert cipher.seal(None, "t.c") is None
    assert cipher.open_("written before encryption", "t.c") == "written before encryption"
    record = {"title": "x", "list": [1, "é"]}
    assert cipher.open_json(cipher.seal_json(record, "t.r"), "t.r") == record
    assert cipher.open_json('{"a": 2}', "t.r") == {"a": 2}


def test_moved_changed_or_foreign_values_are_refused() -> None:
    cipher = _cipher()
    sealed = cipher.seal("secret", "t.a")
    assert sealed is not None
    with pytest.raises(ArchiveError, match="authentication"):
        cipher.open_(sealed, "t.b")
    changed = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(ArchiveError):
        cipher.open_(changed, "t.a")
    with pytest.raises(ArchiveError, match="lacks"):
        _cipher().open_(sealed, "t.a")
    with pytest.raises(ArchiveError):
        PASS_THROUGH.open_(sealed, "t.a")


def test_only_encrypted_server_archives_seal() -> None:
    ring = Keyring(path=None, master_id="m", master_key=os.urandom(32), db_key=os.urandom(32))  # type: ignore[arg-type]
    assert cipher_for(None, {}) is None
    assert cipher_for(ring, {}) is None
    assert cipher_for(ring, {"encryption": {"state": "on", "database": "sqlcipher"}}) is None
    cipher = cipher_for(ring, {"encryption": {"state": "on", "database": "none"}})
    assert cipher is not None and cipher.active
    # The key follows the database key, not the master key: `rekey` leaves sealed fields readable.
    ring.master_key = os.urandom(32)
    again = cipher_for(ring, {"encryption": {"state": "on", "database": "none"}})
    assert again is not None and again.open_(cipher.seal("x", "t.c"), "t.c") == "x"
