"""Search index: search_documents plus the backend's full-text structure (FTS5 table on SQLite,
tsvector column with a GIN index on PostgreSQL).

Revision ID: search_0001
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "search_0001"
down_revision = "0001_foundation"
branch_labels = ("search",)
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    doc_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "search_documents",
        sa.Column("id", doc_id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("record_id", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("category", sa.String(64)),
        sa.Column("source", sa.String(255)),
        sa.Column("place", sa.String(255)),
        sa.Column("state", sa.String(32)),
        sa.Column("date", UTC_DT),
        sa.Column("month", sa.String(7)),
        sa.UniqueConstraint("kind", "record_id", name="uq_search_documents_kind_record"),
    )
    op.create_index("ix_search_documents_date", "search_documents", ["date"])
    op.create_table(
        "search_texts",
        sa.Column("id", doc_id, sa.ForeignKey("search_documents.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("title", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("indexed_at", UTC_DT, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0')"
        )
    else:
        op.execute("ALTER TABLE search_texts ADD COLUMN tsv tsvector")
        op.execute("CREATE INDEX ix_search_texts_tsv ON search_texts USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_texts")
    op.drop_table("search_documents")
