"""The archive keyring (`keys/encryption.json`): the secret that unlocks an encrypted archive.

Two random 256-bit keys are made at `init --encrypt` / `encrypt` time and stored only wrapped
(AES-256-GCM) under a key-encryption key (KEK) derived from the person's secret:

- the **master key** wraps every object's data key (rows of `blob_keys`); `rekey` replaces it
  and re-wraps the data keys, never touching the objects themselves;
- the **database key** is SQLCipher's raw key for the embedded database.

The KEK comes from a passphrase with argon2id (RFC 9106; parameters and salt in the file) or from a
key file with HKDF-SHA256 (the file holds at least 32 random bytes). Changing the passphrase only
re-wraps these two keys. The file is replaced atomically, so a crash leaves the old or the new one.
A master key being rotated is kept under `previous` until every data key is re-wrapped; a
database key being rotated in is kept under `database_next` until SQLCipher's rekey finished.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hujjat.domain.errors import ArchiveError, UsageError

KEYRING_NAME = "encryption.json"
FORMAT = "hujjat-keyring-1"
ARGON2_DEFAULTS = {"time_cost": 3, "memory_kib": 65536, "parallelism": 2}
MIN_KEY_FILE = 32


@dataclass(frozen=True)
class Secret:
    """What a person or script supplies: a passphrase or the bytes of a key file."""

    passphrase: str | None = None
    key_file: bytes | None = None

    @classmethod
    def from_key_file(cls, path: Path) -> Secret:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read the key file {path}: {exc.strerror or exc}") from None
        if len(data) < MIN_KEY_FILE:
            raise UsageError(f"the key file {path} holds {len(data)} bytes; it needs at least {MIN_KEY_FILE} random bytes")
        return cls(key_file=data)


@dataclass
class Keyring:
    path: Path
    master_id: str
    master_key: bytes
    db_key: bytes
    previous: dict[str, bytes] = field(default_factory=dict)
    db_key_next: bytes | None = None  # a database key being rotated in (`rekey --database`)

    def master_keys(self) -> dict[str, bytes]:
        return {**self.previous, self.master_id: self.master_key}


def _derive_kek(secret: Secret, kdf: dict[str, Any]) -> bytes:
    salt = bytes.fromhex(str(kdf["salt"]))
    if kdf["name"] == "argon2id":
        if secret.passphrase is None:
            raise UsageError("this archive is locked with a passphrase, not a key file")
        return hash_secret_raw(
            secret.passphrase.encode("utf-8"),
            salt,
            time_cost=int(kdf["time_cost"]),
            memory_cost=int(kdf["memory_kib"]),
            parallelism=int(kdf["parallelism"]),
            hash_len=32,
            type=Type.ID,
        )
    if kdf["name"] == "hkdf-sha256-keyfile":
        if secret.key_file is None:
            raise UsageError("this archive is locked with a key file, not a passphrase")
        return HKDF(hashes.SHA256(), 32, salt, b"hujjat archive key-encryption key").derive(secret.key_file)
    raise ArchiveError(f"unknown key derivation {kdf['name']!r} in the keyring")


def _new_kdf(secret: Secret) -> dict[str, Any]:
    salt = secrets.token_hex(16)
    if secret.passphrase is not None:
        if not secret.passphrase:
            raise UsageError("the passphrase is empty")
        cost = {k: int(os.environ.get(f"HUJJAT_ARGON2_{k.upper()}", v)) for k, v in ARGON2_DEFAULTS.items()}
        return {"name": "argon2id", "salt": salt, **cost}
    if secret.key_file is None:
        raise UsageError("no secret given: a passphrase or a key file is needed")
    return {"name": "hkdf-sha256-keyfile", "salt": salt}


def _wrap(kek: bytes, key: bytes, label: str) -> str:
    nonce = os.urandom(12)
    return (nonce + AESGCM(kek).encrypt(nonce, key, label.encode())).hex()


def _unwrap(kek: bytes, wrapped: str, label: str) -> bytes:
    raw = bytes.fromhex(wrapped)
    try:
        return AESGCM(kek).decrypt(raw[:12], raw[12:], label.encode())
    except InvalidTag:
        raise UsageError("wrong passphrase or key file for this archive") from None


def keyring_path(key_dir: Path) -> Path:
    return Path(key_dir) / KEYRING_NAME


def keyring_exists(key_dir: Path) -> bool:
    return keyring_path(key_dir).exists()


def create_keyring(key_dir: Path, secret: Secret) -> Keyring:
    path = keyring_path(key_dir)
    if path.exists():
        raise ArchiveError(f"{path} exists: the archive already has encryption keys")
    ring = Keyring(path, secrets.token_hex(8), os.urandom(32), os.urandom(32))
    save_keyring(ring, secret)
    return ring


def save_keyring(ring: Keyring, secret: Secret) -> None:
    """Write the keyring wrapped under `secret` (a fresh salt each time), atomically."""
    kdf = _new_kdf(secret)
    kek = _derive_kek(secret, kdf)
    data = {
        "format": FORMAT,
        "kdf": kdf,
        "master": {"id": ring.master_id, "wrapped": _wrap(kek, ring.master_key, "master:" + ring.master_id)},
        "database": {"wrapped": _wrap(kek, ring.db_key, "database")},
        "previous": {
            key_id: _wrap(kek, key, "master:" + key_id) for key_id, key in sorted(ring.previous.items())
        },
    }
    if ring.db_key_next is not None:
        data["database_next"] = {"wrapped": _wrap(kek, ring.db_key_next, "database-next")}
    ring.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = ring.path.with_suffix(".json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(ring.path)


def load_keyring(key_dir: Path, secret: Secret) -> Keyring:
    path = keyring_path(key_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArchiveError(f"the archive is encrypted but its keyring {path} is missing") from None
    except (OSError, ValueError) as exc:
        raise ArchiveError(f"cannot read the keyring {path}: {exc}") from None
    if data.get("format") != FORMAT:
        raise ArchiveError(f"{path} is not a Hujjat keyring")
    kek = _derive_kek(secret, data["kdf"])
    master_id = str(data["master"]["id"])
    return Keyring(
        path,
        master_id,
        _unwrap(kek, data["master"]["wrapped"], "master:" + master_id),
        _unwrap(kek, data["database"]["wrapped"], "database"),
        {k: _unwrap(kek, v, "master:" + k) for k, v in data.get("previous", {}).items()},
        _unwrap(kek, data["database_next"]["wrapped"], "database-next") if data.get("database_next") else None,
    )


def wrap_data_key(master_key: bytes, data_key: bytes, sha256: str) -> bytes:
    """A data key wrapped under the master key, bound to its object's address (AAD)."""
    nonce = os.urandom(12)
    return nonce + AESGCM(master_key).encrypt(nonce, data_key, b"hujjat-dek:" + sha256.encode())


def unwrap_data_key(master_key: bytes, wrapped: bytes, sha256: str) -> bytes:
    try:
        return AESGCM(master_key).decrypt(wrapped[:12], wrapped[12:], b"hujjat-dek:" + sha256.encode())
    except InvalidTag:
        raise ArchiveError(f"the data key of sha256:{sha256} does not unwrap (changed or wrong key)") from None
