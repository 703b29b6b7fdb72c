"""The wrapped data keys of encrypted objects, in a small SQLite file of their own
(`keys/blob-keys.db`), apart from the archive database.

Kept apart so that writing an object never waits for the archive database's write lock (ingest
records items in long batched transactions while other threads store the next files), and so the
same file serves archives whose records live on PostgreSQL. Every value in it is already encrypted
(AES-256-GCM under the master key, bound to the object's address); the file itself holds no
plaintext. Shredding overwrites the wrapped key with zeros, clears it, and empties the write-ahead
log; SQLite runs with `secure_delete`, so the old bytes do not linger in free pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.engine import create_db_engine

FILE_NAME = "blob-keys.db"
_metadata = sa.MetaData()
blob_keys = sa.Table(
    "blob_keys",
    _metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("master_id", sa.String(32)),
    sa.Column("wrapped", sa.LargeBinary),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("shredded_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True)
class BlobKey:
    sha256: str
    master_id: str | None
    wrapped: bytes | None
    shredded_at: datetime | None

    @property
    def shredded(self) -> bool:
        return self.shredded_at is not None or self.wrapped is None


def _key(row: Any) -> BlobKey:
    return BlobKey(row.sha256, row.master_id, row.wrapped, row.shredded_at)


class KeyTable:
    def __init__(self, key_dir: Path, busy_timeout_s: int = 60) -> None:
        """`busy_timeout_s`: how long a writer waits for another's transaction. The encrypting
        store holds it while it places an object, which on S3 is an upload of any length."""
        key_dir.mkdir(parents=True, exist_ok=True)
        self.path = key_dir / FILE_NAME
        self.engine = create_db_engine(f"sqlite:///{self.path}")
        if busy_timeout_s != 60:

            @sa.event.listens_for(self.engine, "connect")
            def _wait_longer(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s) * 1000}")
                cursor.close()

        with self.engine.begin() as conn:
            _metadata.create_all(conn)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[KeyTransaction]:
        with self.engine.begin() as conn:
            yield KeyTransaction(conn)

    def get(self, sha256: str) -> BlobKey | None:
        with self.engine.connect().execution_options(hujjat_read_only=True) as conn:
            return KeyTransaction(conn).get(sha256)

    def keyed(self) -> set[str]:
        """Every object with a key row (shredded ones included)."""
        with self.engine.connect().execution_options(hujjat_read_only=True) as conn:
            return {row.sha256 for row in conn.execute(sa.select(blob_keys.c.sha256))}

    def shredded(self) -> set[str]:
        with self.engine.connect().execution_options(hujjat_read_only=True) as conn:
            rows = conn.execute(sa.select(blob_keys.c.sha256).where(blob_keys.c.shredded_at.is_not(None)))
            return {row.sha256 for row in rows}

    def shred(self, sha256: str) -> bool:
        """Destroy the object's wrapped key; False when it was already shredded."""
        with self.transaction() as tx:
            done = tx.shred(sha256, datetime.now(UTC))
        self.checkpoint()
        return done

    def checkpoint(self) -> None:
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()


class KeyTransaction:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self, sha256: str) -> BlobKey | None:
        row = self.conn.execute(sa.select(blob_keys).where(blob_keys.c.sha256 == sha256)).first()
        return _key(row) if row else None

    def put(self, sha256: str, master_id: str, wrapped: bytes) -> None:
        if self.get(sha256) is None:
            self.conn.execute(blob_keys.insert().values(
                sha256=sha256, master_id=master_id, wrapped=wrapped, created_at=datetime.now(UTC)))
        else:
            self.rewrap(sha256, master_id, wrapped)

    def rewrap(self, sha256: str, master_id: str, wrapped: bytes) -> None:
        self.conn.execute(
            blob_keys.update()
            .where(blob_keys.c.sha256 == sha256, blob_keys.c.wrapped.is_not(None))
            .values(master_id=master_id, wrapped=wrapped)
        )

    def iter_keys(self) -> Iterator[BlobKey]:
        for row in self.conn.execute(sa.select(blob_keys).order_by(blob_keys.c.sha256)):
            yield _key(row)

    def shred(self, sha256: str, at: datetime) -> bool:
        key = self.get(sha256)
        if key is not None and key.shredded_at is not None:
            return False
        if key is None:
            self.conn.execute(blob_keys.insert().values(sha256=sha256, created_at=at, shredded_at=at))
            return True
        # Overwrite with zeros first (same length, same page), then clear.
        where = blob_keys.c.sha256 == sha256
        self.conn.execute(blob_keys.update().where(where).values(wrapped=bytes(len(key.wrapped or b""))))
        self.conn.execute(blob_keys.update().where(where).values(wrapped=None, master_id=None, shredded_at=at))
        return True
