"""Web: an index for counting the items a user not cleared for every level may see, by level and
kind (issue 7 performance: the evidence list's and dashboard's counts read every row without it).

The repository keeps this index out of the newest-first page query (there it would make SQLite
sort every visible row), using it only for the counts.

Revision ID: web_0003
Revises: web_0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "web_0003"
down_revision = "web_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_sensitivity_kind", "items", ["sensitivity", sa.text("lower(media_type)")])


def downgrade() -> None:
    op.drop_index("ix_items_sensitivity_kind", table_name="items")
