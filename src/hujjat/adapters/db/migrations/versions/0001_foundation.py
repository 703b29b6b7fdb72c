"""Foundation: archive info, items, acquisitions, metadata, custody log and checkpoints.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = ("foundation",)
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "archive_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("sensitivity", sa.String(16), nullable=False, server_default="internal"),
        sa.UniqueConstraint("sha256", name="uq_items_sha256"),
    )
    op.create_table(
        "acquisitions",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("acquired_at", UTC_DT, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("source_kind", sa.String(32), nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("path", sa.Text),
        sa.Column("original_name", sa.Text),
        sa.Column("original_mtime", UTC_DT),
        sa.Column("note", sa.Text),
        sa.Column("dedup_key", sa.String(64), nullable=False),
        sa.UniqueConstraint("dedup_key", name="uq_acquisitions_dedup_key"),
    )
    op.create_index("ix_acquisitions_item_id", "acquisitions", ["item_id"])
    op.create_table(
        "item_metadata",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("extractor", sa.String(128), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("extracted_at", UTC_DT, nullable=False),
    )
    op.create_index("ix_item_metadata_item_id", "item_metadata", ["item_id"])
    op.create_table(
        "custody_entries",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128)),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("hash", name="uq_custody_entries_hash"),
    )
    op.create_index("ix_custody_entries_action", "custody_entries", ["action"])
    op.create_index("ix_custody_entries_subject", "custody_entries", ["subject"])
    op.create_table(
        "custody_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "custody_checkpoints",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("head", sa.String(64), nullable=False),
        sa.Column("time", sa.String(40), nullable=False),
        sa.Column("archive", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "custody_checkpoints",
        "custody_head",
        "custody_entries",
        "item_metadata",
        "acquisitions",
        "items",
        "archive_info",
    ):
        op.drop_table(table)
