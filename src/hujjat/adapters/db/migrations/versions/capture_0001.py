"""Web captures: capture records and their artefacts.

Revision ID: capture_0001
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "capture_0001"
down_revision = "0001_foundation"
branch_labels = ("capture",)
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "captures",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("final_url", sa.Text),
        sa.Column("http_status", sa.Integer),
        sa.Column("status_text", sa.Text),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("started_at", UTC_DT, nullable=False),
        sa.Column("finished_at", UTC_DT),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("text", sa.Text),
        sa.Column("encoding", sa.String(64)),
        sa.Column("encoding_source", sa.String(16)),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("tool", sa.Text),
    )
    op.create_index("ix_captures_state", "captures", ["state"])
    op.create_table(
        "capture_artefacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("capture_id", sa.String(26), sa.ForeignKey("captures.id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("name", sa.Text),
    )
    op.create_index("ix_capture_artefacts_capture_id", "capture_artefacts", ["capture_id"])
    op.create_index("ix_capture_artefacts_item_id", "capture_artefacts", ["item_id"])


def downgrade() -> None:
    op.drop_table("capture_artefacts")
    op.drop_table("captures")
