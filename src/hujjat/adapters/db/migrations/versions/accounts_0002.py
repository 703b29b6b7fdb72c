"""Accounts: failed sign-in counters in the database (issue 7), so every server process and a
restarted one share the rate limit: one row per key (`ip:ADDRESS` or `user:NAME`) with the failures
in the current window and, once the limit is reached, the time the lock-out ends (Unix seconds).

Revision ID: accounts_0002
Revises: accounts_0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accounts_0002"
down_revision = "accounts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(320), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("locked_until", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("login_failures")
