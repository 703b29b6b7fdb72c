"""Near-duplicate media: fingerprints, frame hashes, recorded matches.

Revision ID: dedup_0001
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "dedup_0001"
down_revision = "0001_foundation"
branch_labels = ("dedup",)
depends_on = None

UTC_DT = sa.DateTime(timezone=True)
ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "fingerprints",
        sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("algorithm", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("quality", sa.Integer, nullable=False),
        sa.Column("frames", sa.Integer, nullable=False),
        sa.Column("duration_ms", sa.BigInteger),
        sa.Column("computed_at", UTC_DT, nullable=False),
    )
    op.create_table(
        "fingerprint_hashes",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("frame", sa.Integer, nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("quality", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("flipped", sa.String(64), nullable=False),
        sa.Column("center", sa.String(64)),
        sa.Column("center_flipped", sa.String(64)),
    )
    op.create_index("ix_fingerprint_hashes_item_id", "fingerprint_hashes", ["item_id"])
    op.create_table(
        "near_duplicate_matches",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("other_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("distance", sa.Integer, nullable=False),
        sa.Column("percent", sa.Integer, nullable=False),
        sa.Column("frames", sa.JSON, nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("found_at", UTC_DT, nullable=False),
        sa.UniqueConstraint("item_id", "other_id", name="uq_near_duplicate_matches_pair"),
    )
    op.create_index("ix_near_duplicate_matches_item_id", "near_duplicate_matches", ["item_id"])
    op.create_index("ix_near_duplicate_matches_other_id", "near_duplicate_matches", ["other_id"])


def downgrade() -> None:
    op.drop_table("near_duplicate_matches")
    op.drop_table("fingerprint_hashes")
    op.drop_table("fingerprints")
