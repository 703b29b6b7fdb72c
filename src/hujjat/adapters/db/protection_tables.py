"""Protection tables: redacted derivatives linked to their originals.

(The wrapped data keys of encrypted objects live apart, in keys/blob-keys.db: see
adapters/crypto/key_table.py.)
"""

from __future__ import annotations

import sqlalchemy as sa

from hujjat.adapters.db.tables import UtcDateTime, metadata

derivatives = sa.Table(
    "derivatives",
    metadata,
    sa.Column("derivative_id", sa.String(26), sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("original_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False, index=True),
    sa.Column("operations", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Blind search index of restricted records on archives that seal fields (a database server):
# the display fields sealed with the field cipher, and per normalised term only an opaque
# HMAC-SHA256 token (adapters/search/blind.py). No plaintext of the record is stored.
BlindDocId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

blind_documents = sa.Table(
    "protected_search_documents",
    metadata,
    sa.Column("id", BlindDocId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("record_id", sa.String(128), nullable=False),
    sa.Column("date", UtcDateTime),
    sa.Column("sealed", sa.Text, nullable=False),
    sa.UniqueConstraint("kind", "record_id", name="uq_protected_search_documents_kind_record"),
)

blind_terms = sa.Table(
    "protected_search_terms",
    metadata,
    sa.Column("token", sa.String(32), primary_key=True),
    sa.Column(
        "doc_id", BlindDocId, sa.ForeignKey("protected_search_documents.id", ondelete="CASCADE"),
        primary_key=True, index=True,
    ),
)
