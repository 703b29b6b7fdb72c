"""Web captures: a sensitivity level per capture (public, internal, restricted; existing captures
become internal, the level items default to), with an index for counting (issue 7).

Revision ID: capture_0002
Revises: capture_0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "capture_0002"
down_revision = "capture_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("captures", sa.Column("sensitivity", sa.String(16), nullable=False, server_default="internal"))
    op.create_index("ix_captures_sensitivity", "captures", ["sensitivity"])


def downgrade() -> None:
    op.drop_index("ix_captures_sensitivity", table_name="captures")
    with op.batch_alter_table("captures") as batch:
        batch.drop_column("sensitivity")
