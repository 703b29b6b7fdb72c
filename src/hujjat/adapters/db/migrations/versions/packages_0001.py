"""Packages: RFC 3161 timestamp tokens, imported packages with their custody excerpts.

Revision ID: packages_0001
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "packages_0001"
down_revision = "0001_foundation"
branch_labels = ("packages",)
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "timestamp_tokens",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("message_sha256", sa.String(64), nullable=False),
        sa.Column("message", sa.LargeBinary, nullable=False),
        sa.Column("tsa_url", sa.Text, nullable=False),
        sa.Column("token", sa.LargeBinary, nullable=False),
        sa.Column("chain_pem", sa.LargeBinary, nullable=False),
        sa.Column("gen_time", sa.String(40), nullable=False),
        sa.Column("tsa", sa.Text),
        sa.Column("created_at", UTC_DT, nullable=False),
    )
    op.create_index("ix_timestamp_tokens_subject", "timestamp_tokens", ["subject"])
    op.create_table(
        "imported_packages",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("external_identifier", sa.Text, nullable=False),
        sa.Column("source_archive", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("public_key_pem", sa.Text, nullable=False),
        sa.Column("tagmanifest_sha256", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.Column("problems", sa.JSON, nullable=False),
        sa.Column("bag_info", sa.JSON, nullable=False),
        sa.Column("imported_at", UTC_DT, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
    )
    op.create_table(
        "imported_custody_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "package_id",
            sa.String(26),
            sa.ForeignKey(
                "imported_packages.id", name="fk_imported_custody_entries_package_id_imported_packages"
            ),
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_imported_custody_entries_package_id", "imported_custody_entries", ["package_id"])
    op.create_table(
        "imported_package_items",
        sa.Column(
            "package_id",
            sa.String(26),
            sa.ForeignKey(
                "imported_packages.id", name="fk_imported_package_items_package_id_imported_packages"
            ),
            primary_key=True,
        ),
        sa.Column(
            "item_id",
            sa.String(26),
            sa.ForeignKey("items.id", name="fk_imported_package_items_item_id_items"),
            primary_key=True,
        ),
        sa.Column("path", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("imported_package_items")
    op.drop_table("imported_custody_entries")
    op.drop_table("imported_packages")
    op.drop_table("timestamp_tokens")
