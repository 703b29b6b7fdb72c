"""SQL repository for protection: derivatives, and scrubbing what was extracted from an item."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.protection_tables import derivatives
from hujjat.adapters.db.tables import item_metadata
from hujjat.ports.protection import Derivative


def _derivative(row: Any) -> Derivative:
    return Derivative(row.derivative_id, row.original_id, dict(row.operations), row.created_at)


class SqlProtectionRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

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
