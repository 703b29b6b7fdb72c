"""Converting a plaintext archive to an encrypted one (`hujjat encrypt`) and rotating keys
(`hujjat rekey`). Both can be interrupted at any point and simply run again.

`encrypt`: (1) the keyring is written (or, on a re-run, unlocked); (2) `hujjat.toml` says
`state = "converting"`, so new objects are written encrypted while old ones stay readable;
(3) every plaintext object is re-hashed, encrypted under a new data key and atomically renamed
over itself (the key row commits after the rename, so an interrupted object is redone); (4) the
embedded SQLite database is copied into a SQLCipher database with `sqlcipher_export` and renamed
over the old file, and its WAL and shared-memory files are removed; (5) `state = "on"`.

`rekey`: a new master key is made and saved beside the old one (`previous`), every data key is
re-wrapped in ONE transaction, then the old master key is dropped. Objects are not rewritten.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from hujjat.adapters.blobs.encrypted import EncryptedStore
from hujjat.adapters.crypto.archive import KEY_DIR, encryption_table, is_plain_sqlite, sqlite_path
from hujjat.adapters.crypto.key_table import KeyTable
from hujjat.adapters.crypto.keyring import (
    Keyring,
    Secret,
    create_keyring,
    keyring_exists,
    load_keyring,
    save_keyring,
    unwrap_data_key,
    wrap_data_key,
)
from hujjat.config import ArchiveConfig, write_config
from hujjat.domain.errors import ArchiveError


def checkpoint_wal(engine: sa.Engine) -> None:
    """Fold SQLite's write-ahead log into the database file and empty it (outside a transaction),
    so overwritten or deleted values do not linger in the -wal file."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def begin_encryption(config: ArchiveConfig, secret: Secret) -> Keyring:
    """Steps 1-2: make (or unlock, on a re-run) the keyring and mark the archive converting."""
    key_dir = config.root / KEY_DIR
    ring = load_keyring(key_dir, secret) if keyring_exists(key_dir) else create_keyring(key_dir, secret)
    current = config.extra.get("encryption")
    if not (isinstance(current, dict) and current.get("state") == "on"):
        table = encryption_table(config.database_url, state="converting")
        table["database"] = "none"
        path = sqlite_path(config.database_url)
        if path is not None and not is_plain_sqlite(path):
            table["database"] = "sqlcipher"  # an earlier run got as far as step 4
        config.extra["encryption"] = table
        write_config(config)
    return ring


def encrypt_objects(store: EncryptedStore, on_object: Callable[[str], None] | None = None) -> int:
    """Step 3: encrypt every plaintext object in place; return how many were converted."""
    converted = 0
    for sha256, _size in list(store.inner.iter_objects()):
        if store.convert(sha256):
            converted += 1
        if on_object is not None:
            on_object(sha256)
    return converted


def encrypt_sqlite(engine: sa.Engine, path: Path, db_key: bytes) -> bool:
    """Step 4: replace the plaintext SQLite file by a SQLCipher copy; False when already done."""
    if not is_plain_sqlite(path):
        return False
    import sqlcipher3.dbapi2 as sqlcipher  # type: ignore[import-untyped]

    checkpoint_wal(engine)
    engine.dispose()
    target = path.with_name(path.name + ".encrypting")
    for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    source = sqlcipher.connect(str(path))
    try:
        source.execute("PRAGMA journal_mode=DELETE")
        source.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{db_key.hex()}'\"", (str(target),))
        source.execute("SELECT sqlcipher_export('encrypted')")
        source.execute("DETACH DATABASE encrypted")
    finally:
        source.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    target.replace(path)
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    return True


def finish_encryption(config: ArchiveConfig) -> None:
    """Step 5."""
    config.extra["encryption"] = encryption_table(config.database_url)
    write_config(config)


def rotate_master_key(ring: Keyring, table: KeyTable, secret: Secret) -> tuple[str, int]:
    """`rekey`: new master key, every data key re-wrapped in one transaction; (new id, count)."""
    old = ring.master_keys()
    ring.previous = dict(old)
    ring.master_id, ring.master_key = os.urandom(8).hex(), os.urandom(32)
    save_keyring(ring, secret)  # both keys on disk before any row changes
    count = 0
    with table.transaction() as keys:
        for key in list(keys.iter_keys()):
            if key.wrapped is None or key.master_id is None:
                continue  # shredded: nothing to re-wrap
            master = old.get(key.master_id)
            if master is None:
                if key.master_id == ring.master_id:
                    continue
                raise ArchiveError(f"sha256:{key.sha256} is wrapped by an unknown master key {key.master_id}")
            data_key = unwrap_data_key(master, key.wrapped, key.sha256)
            keys.rewrap(key.sha256, ring.master_id, wrap_data_key(ring.master_key, data_key, key.sha256))
            count += 1
    ring.previous = {}
    save_keyring(ring, secret)
    return ring.master_id, count
