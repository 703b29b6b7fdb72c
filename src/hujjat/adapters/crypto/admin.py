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

`rekey --database` (embedded SQLCipher database): a new database key is saved in the keyring as
`database_next` BEFORE `PRAGMA rekey` re-encrypts the file with it (one SQLite transaction: the
file is wholly under the old key or wholly under the new one), and becomes the database key only
after. If anything stops in between, the keyring holds both keys: opening the archive tries which
one opens the file (`database_key_in_use`), and running the command again finishes the rotation.
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


def _opens_with(path: Path, key: bytes) -> bool:
    """Whether SQLCipher reads the database file at `path` with this raw key."""
    import sqlcipher3.dbapi2 as sqlcipher

    conn = sqlcipher.connect(str(path))
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher.DatabaseError:
        return False
    finally:
        conn.close()


def database_key_in_use(path: Path, ring: Keyring) -> bytes:
    """The key that opens the SQLCipher file while a rotation is pending (old, else new)."""
    if ring.db_key_next is None or _opens_with(path, ring.db_key):
        return ring.db_key
    if _opens_with(path, ring.db_key_next):
        return ring.db_key_next
    raise ArchiveError(f"neither the database key nor the one being rotated in opens {path}")


def rotate_database_key(engine: sa.Engine, path: Path, ring: Keyring, secret: Secret) -> bool:
    """`rekey --database`: re-encrypt the SQLCipher file under a new database key, crash-safe.
    Returns False when an interrupted rotation only had to be finished (the file already used
    the new key)."""
    import sqlcipher3.dbapi2 as sqlcipher

    checkpoint_wal(engine)
    engine.dispose()
    if ring.db_key_next is None:
        ring.db_key_next = os.urandom(32)
        save_keyring(ring, secret)  # (1) the new key is on disk before the file changes
    rekeyed = False
    if database_key_in_use(path, ring) == ring.db_key:
        conn = sqlcipher.connect(str(path), isolation_level=None)
        try:
            conn.execute(f"PRAGMA key = \"x'{ring.db_key.hex()}'\"")
            conn.execute("PRAGMA journal_mode=DELETE")  # rekey rewrites every page in one transaction
            conn.execute(f"PRAGMA rekey = \"x'{ring.db_key_next.hex()}'\"")  # (2)
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
        rekeyed = True
    ring.db_key, ring.db_key_next = ring.db_key_next, None
    save_keyring(ring, secret)  # (3) the new key becomes the database key
    return rekeyed
