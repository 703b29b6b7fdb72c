"""SQL repository for protection: wrapped data keys (`blob_keys`) and derivatives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.protection_tables import blob_keys, derivatives
from hujjat.adapters.db.tables import item_metadata
from hujjat.ports.protection import BlobKey, Derivative


def _key(row: Any) -> BlobKey:
    return BlobKey(row.sha256, row.master_id, row.wrapped, row.shredded_at)


def _derivative(row: Any) -> Derivative:
    return Derivative(row.derivative_id, row.original_id, dict(row.operations), row.created_at)


class SqlProtectionRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get_key(self, sha256: str) -> BlobKey | None:
        row = self.conn.execute(sa.select(blob_keys).where(blob_keys.c.sha256 == sha256)).first()
        return _key(row) if row else None

    def add_key(self, sha256: str, master_id: str, wrapped: bytes, at: datetime) -> bool:
        if self.get_key(sha256) is not None:
            return False
        self.conn.execute(
            blob_keys.insert().values(sha256=sha256, master_id=master_id, wrapped=wrapped, created_at=at)
        )
        return True

    def rewrap(self, sha256: str, master_id: str, wrapped: bytes) -> None:
        self.conn.execute(
            blob_keys.update()
            .where(blob_keys.c.sha256 == sha256, blob_keys.c.wrapped.is_not(None))
            .values(master_id=master_id, wrapped=wrapped)
        )

    def iter_keys(self) -> Iterator[BlobKey]:
        for row in self.conn.execute(sa.select(blob_keys).order_by(blob_keys.c.sha256)):
            yield _key(row)

    def shred_key(self, sha256: str, at: datetime) -> bool:
        key = self.get_key(sha256)
        if key is not None and key.shredded_at is not None:
            return False
        if key is None:
            self.conn.execute(blob_keys.insert().values(sha256=sha256, created_at=at, shredded_at=at))
        else:
            # Overwrite with zeros first (same length, same page) and then clear it.
            self.conn.execute(
                blob_keys.update()
                .where(blob_keys.c.sha256 == sha256)
                .values(wrapped=bytes(len(key.wrapped or b"")))
            )
            self.conn.execute(
                blob_keys.update()
                .where(blob_keys.c.sha256 == sha256)
                .values(wrapped=None, master_id=None, shredded_at=at)
            )
        return True

    def shredded(self) -> set[str]:
        rows = self.conn.execute(sa.select(blob_keys.c.sha256).where(blob_keys.c.shredded_at.is_not(None)))
        return {row.sha256 for row in rows}

    def scrub_item(self, item_id: str) -> int:
        result = self.conn.execute(item_metadata.delete().where(item_metadata.c.item_id == item_id))
        return int(result.rowcount or 0)

    def add_derivative(self, derivative: Derivative) -> None:
        self.conn.execute(
            derivatives.insert().values(
                derivative_id=derivative.derivative_id,
                original_id=derivative.original_id,
                operations=derivative.operations,
                created_at=derivative.created_at,
            )
        )

    def derivatives_of(self, original_id: str) -> list[Derivative]:
        rows = self.conn.execute(
            sa.select(derivatives)
            .where(derivatives.c.original_id == original_id)
            .order_by(derivatives.c.created_at)
        )
        return [_derivative(row) for row in rows]

    def original_of(self, derivative_id: str) -> Derivative | None:
        row = self.conn.execute(
            sa.select(derivatives).where(derivatives.c.derivative_id == derivative_id)
        ).first()
        return _derivative(row) if row else None
