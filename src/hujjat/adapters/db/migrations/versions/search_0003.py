"""Search: a generation number that every write to the index raises.

Searching processes keep recent results in memory (adapters/search/result_cache.py) and serve
them only while the index's generation is the one they were computed at; a writer raises it in
the same transaction as its change. On PostgreSQL every index write transaction first locks this
row, so index writers run one after another (two of them inserting the same record collided).

Revision ID: search_0003
Revises: search_0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "search_0003"
down_revision = "search_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "search_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "value": 1}])


def downgrade() -> None:
    op.drop_table("search_generation")
