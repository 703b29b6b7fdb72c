"""Protection: the blind search index of restricted records on archives that seal fields.

Revision ID: protection_0002
Revises: protection_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "protection_0002"
down_revision = "protection_0001"
branch_labels = None
depends_on = None

UTC_DT = sa.DateTime(timezone=True)
DOC_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "protected_search_documents",
        sa.Column("id", DOC_ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("record_id", sa.String(128), nullable=False),
        sa.Column("date", UTC_DT),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.UniqueConstraint("kind", "record_id", name="uq_protected_search_documents_kind_record"),
    )
    op.create_table(
        "protected_search_terms",
        sa.Column("token", sa.String(32), primary_key=True),
        sa.Column(
            "doc_id", DOC_ID, sa.ForeignKey("protected_search_documents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_protected_search_terms_doc_id", "protected_search_terms", ["doc_id"])


def downgrade() -> None:
    op.drop_index("ix_protected_search_terms_doc_id", table_name="protected_search_terms")
    op.drop_table("protected_search_terms")
    op.drop_table("protected_search_documents")
