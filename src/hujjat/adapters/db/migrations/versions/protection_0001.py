"""Protection: redacted derivatives linked to their originals.

Revision ID: protection_0001
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "protection_0001"
down_revision = "0001_foundation"
branch_labels = ("protection",)
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "derivatives",
        sa.Column("derivative_id", sa.String(26), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("original_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("operations", sa.JSON, nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
    )
    op.create_index("ix_derivatives_original_id", "derivatives", ["original_id"])


def downgrade() -> None:
    op.drop_index("ix_derivatives_original_id", table_name="derivatives")
    op.drop_table("derivatives")
