"""The search index's own tables: one row per searchable record (`search_documents`) holding the
fields facets and filters use, the original text for snippets, and the record shown with a hit.

The full-text part is backend-specific and created by the migration: on SQLite an FTS5 table
`search_fts(terms)` whose rowid is `search_documents.id`; on PostgreSQL a `tsv tsvector` column
with a GIN index. Both hold the same normalised, stemmed terms computed in Python.
"""

from __future__ import annotations

import sqlalchemy as sa

from hujjat.adapters.db.tables import UtcDateTime, metadata

# INTEGER PRIMARY KEY on SQLite (the rowid the FTS5 table points at), BIGINT elsewhere.
DocId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

search_documents = sa.Table(
    "search_documents",
    metadata,
    sa.Column("id", DocId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("record_id", sa.String(128), nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("category", sa.String(64)),
    sa.Column("source", sa.String(255)),
    sa.Column("place", sa.String(255)),
    sa.Column("state", sa.String(32)),
    sa.Column("date", UtcDateTime, index=True),
    sa.Column("month", sa.String(7)),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("indexed_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("kind", "record_id", name="uq_search_documents_kind_record"),
)
