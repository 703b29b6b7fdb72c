"""The search index's own tables.

`search_documents` is deliberately narrow (kind, record id, language and the facet fields): a
search reads it for every matching record to count facets, so it must stay a few dozen bytes a
row. `search_texts` holds what is only read for the page of hits: the original text (snippets),
the title and the record shown with a hit. Same id in both.

The full-text part is backend-specific and created by the migration: on SQLite an FTS5 table
`search_fts(terms)` whose rowid is the document id; on PostgreSQL a `tsv tsvector` column of
`search_texts` with a GIN index. Both hold the same normalised, stemmed terms computed in Python.
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
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("category", sa.String(64)),
    sa.Column("source", sa.String(255)),
    sa.Column("place", sa.String(255)),
    sa.Column("state", sa.String(32)),
    sa.Column("date", UtcDateTime, index=True),
    sa.Column("month", sa.String(7)),
    sa.UniqueConstraint("kind", "record_id", name="uq_search_documents_kind_record"),
)

search_texts = sa.Table(
    "search_texts",
    metadata,
    sa.Column("id", DocId, sa.ForeignKey("search_documents.id", ondelete="CASCADE"), primary_key=True,
              autoincrement=False),
    sa.Column("title", sa.Text),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("indexed_at", UtcDateTime, nullable=False),
)

# One row: raised by every write transaction of the index, read by every search, so that a
# process's cached results (adapters/search/result_cache.py) are served only while they hold.
search_generation = sa.Table(
    "search_generation",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("value", sa.BigInteger, nullable=False),
)
