"""Web: indexes for the evidence browser's filters and counts (issue 7 performance).

`lower(media_type)` serves the kind filter (SQLite's LIKE is case-insensitive and uses no index, so
the repository adds a range on lower(media_type)); `sensitivity` serves the counts and pages of users
not cleared for every level.

Revision ID: web_0001
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "web_0001"
down_revision = "0001_foundation"
branch_labels = ("web",)
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_media_type_lower", "items", [sa.text("lower(media_type)")])
    op.create_index("ix_items_sensitivity", "items", ["sensitivity", "id"])


def downgrade() -> None:
    op.drop_index("ix_items_sensitivity", table_name="items")
    op.drop_index("ix_items_media_type_lower", table_name="items")
