"""Web: an index for the evidence browser's kind filter (issue 7 performance).

`lower(media_type)` serves the count behind the kind filter (SQLite's LIKE is case-insensitive and
uses no index, so the repository counts with a range and a LIKE on lower(media_type)).

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


def downgrade() -> None:
    op.drop_index("ix_items_media_type_lower", table_name="items")
