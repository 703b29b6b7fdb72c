"""Field-level encryption of sensitive database values for encrypted archives on a database server.

The embedded database is encrypted whole with SQLCipher; a PostgreSQL database is not, so on an
encrypted archive with `--database postgresql://...` the repositories seal the sensitive fields
(notes, incident records and versions, custody entry bodies, restricted titles) one by one, and
leave what lists filter and sort on (ids, dates, states, types, sensitivity) queryable.

A sealed value is text: `hjf1:<key id>:<base64(nonce | AES-256-GCM(field key, utf-8, aad))>`.
The field key is derived with HKDF-SHA256 from the keyring's database key (which SQLCipher uses
only for the embedded database and `rekey` keeps), so rotating the master key never strands a
field; the key id in every value lets a future database-key rotation keep older values readable.
The AAD is the column's label, so a value cannot be moved to another column unnoticed.

The cipher travels with the SQLAlchemy engine as the execution option `hujjat_fields`;
`cipher_of(conn)` gives the pass-through cipher when there is none, so a repository can always
call `seal`/`open_` and plaintext archives (and values written before encryption) read unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hujjat.adapters.crypto.archive import encryption_settings
from hujjat.adapters.crypto.keyring import Keyring
from hujjat.domain.errors import ArchiveError

PREFIX = "hjf1:"
OPTION = "hujjat_fields"
SEALED_JSON = "sealed"
CUSTODY_LABEL = "custody_entries.body"


def field_key(db_key: bytes) -> tuple[str, bytes]:
    """(key id, field key) derived from the keyring's database key."""
    key = HKDF(hashes.SHA256(), 32, None, b"hujjat field encryption v1").derive(db_key)
    key_id = hashlib.sha256(b"hujjat field key id:" + key).hexdigest()[:12]
    return key_id, key


class FieldCipher:
    """Seals and opens single text values; with no keys it passes everything through."""

    def __init__(self, keys: dict[str, bytes] | None = None, current: str | None = None) -> None:
        self.keys = dict(keys or {})
        self.current = current
        if current is not None and current not in self.keys:
            raise ValueError("the current field key is not among the keys")

    @property
    def active(self) -> bool:
        return self.current is not None

    def seal(self, value: str | None, label: str) -> str | None:
        if value is None or self.current is None:
            return value
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, value.encode("utf-8"), label.encode())
        return f"{PREFIX}{self.current}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def open_(self, value: str | None, label: str) -> str | None:
        """The plaintext of a sealed value; anything not sealed is returned as it is."""
        if value is None or not value.startswith(PREFIX):
            return value
        key_id, _, body = value[len(PREFIX) :].partition(":")
        key = self.keys.get(key_id)
        if key is None:
            raise ArchiveError(f"a database field is sealed under key {key_id}, which this archive's keyring lacks")
        try:
            raw = base64.b64decode(body, validate=True)
            return AESGCM(key).decrypt(raw[:12], raw[12:], label.encode()).decode("utf-8")
        except (InvalidTag, ValueError):
            raise ArchiveError(f"a sealed database field ({label}) fails authentication (changed or moved)") from None

    def seal_json(self, value: Any, label: str) -> Any:
        """A JSON column's value: `{"sealed": token}` when active, else the value unchanged."""
        if self.current is None or value is None:
            return value
        return {SEALED_JSON: self.seal(json.dumps(value, sort_keys=True, ensure_ascii=False), label)}

    def open_json(self, value: Any, label: str) -> Any:
        if isinstance(value, str):
            value = json.loads(value)
        # len() and get(), not set(value) == {...}: this runs for every record a list page reads
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SEALED_JSON), str):
            return json.loads(self.open_(value[SEALED_JSON], label) or "null")
        return value


PASS_THROUGH = FieldCipher()


def cipher_for(keyring: Keyring | None, extra: dict[str, Any]) -> FieldCipher | None:
    """The field cipher of an encrypted archive whose database SQLCipher does not encrypt."""
    settings = encryption_settings(extra)
    if keyring is None or settings is None or settings.get("database") == "sqlcipher":
        return None
    key_id, key = field_key(keyring.db_key)
    return FieldCipher({key_id: key}, key_id)


def with_field_cipher(engine: sa.Engine, cipher: FieldCipher | None) -> sa.Engine:
    """The engine whose connections carry `cipher` (the engine itself when there is none)."""
    return engine if cipher is None else engine.execution_options(**{OPTION: cipher})


def sealing(engine: sa.Engine) -> bool:
    """Whether this engine's archive seals fields (an encrypted archive on a database server)."""
    cipher = engine.get_execution_options().get(OPTION)
    return isinstance(cipher, FieldCipher) and cipher.active


def cipher_of(conn: sa.Connection) -> FieldCipher:
    cipher = conn.get_execution_options().get(OPTION)
    return cipher if isinstance(cipher, FieldCipher) else PASS_THROUGH


def blind_index_key(keyring: Keyring | None, extra: dict[str, Any]) -> bytes | None:
    """The HMAC key of the blind search index (restricted records on archives that seal fields):
    HKDF-SHA256 of the database key with its own label, so it is independent of the field key."""
    if cipher_for(keyring, extra) is None or keyring is None:
        return None
    return HKDF(hashes.SHA256(), 32, None, b"hujjat blind search index v1").derive(keyring.db_key)
