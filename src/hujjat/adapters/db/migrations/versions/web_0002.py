"""Web: drop ix_items_sensitivity where an early web_0001 made it.

With it SQLite answered "newest items at these levels" by sorting every matching row instead of
reading the primary key newest first (a list page of 70,000 visible items went from under 1 ms of
query to a 70,000-row sort), so web_0001 no longer creates it and this removes it where it exists.

Revision ID: web_0002
Revises: web_0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "web_0002"
down_revision = "web_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_items_sensitivity")


def downgrade() -> None:
    pass  # the index was a mistake; nothing to restore
