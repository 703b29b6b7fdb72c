"""Search on SQLite: document ids become date keys, so FTS5's rowid order is newest-first order.

A newest-first page of a query with hundreds of thousands of matches can then be read by
streaming the FTS5 matches in rowid order and stopping after the page, instead of reading every
match's date (adapters/search/index.py, date_key). Existing ids are rewritten as
((seconds since 1970 + 2**33) << 28) | old id, documents without a date keep their id (below
every dated key), and `search_sequence` holds the next sequence number for new documents. The
FTS5 table is rebuilt under the new ids (from its own stored terms: no text is re-analysed) and
merged into one segment. PostgreSQL is unchanged (it orders by the date column).

Revision ID: search_0002
Revises: search_0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "search_0002"
down_revision = "search_0001"
branch_labels = None
depends_on = None

SHIFT = 28


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE search_sequence (next INTEGER NOT NULL)")
    largest = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM search_documents")).scalar_one()
    if largest >= 1 << SHIFT:
        raise RuntimeError("search index ids above 2**28: clear it (hujjat reindex on an older version) first")
    bind.execute(sa.text("INSERT INTO search_sequence (next) VALUES (:next)"), {"next": int(largest) + 1})
    if not largest:
        return
    # Seconds from the stored text (UTC wall time), clamped like index.date_key:
    # ((max(1 - 2**33, min(seconds, 3 * 2**33 - 1)) + 2**33) << 28) | id.
    op.execute(
        "CREATE TEMP TABLE search_rekey AS SELECT id AS old, "
        "CASE WHEN CAST(strftime('%s', date) AS INTEGER) IS NULL THEN id "
        "ELSE ((max(-8589934591, min(CAST(strftime('%s', date) AS INTEGER), 25769803775)) + 8589934592) << 28) | id "
        "END AS new FROM search_documents"
    )
    op.execute("CREATE UNIQUE INDEX temp.search_rekey_old ON search_rekey (old)")
    # New dated ids are >= 2**28 and old ids below it, so no update collides with a row not yet
    # moved; the text rows follow before the commit checks the foreign key.
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute("UPDATE search_documents SET id = (SELECT new FROM search_rekey WHERE old = search_documents.id)")
    op.execute("UPDATE search_texts SET id = (SELECT new FROM search_rekey WHERE old = search_texts.id)")
    op.execute(
        "CREATE VIRTUAL TABLE search_fts_rekeyed USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0')"
    )
    op.execute(
        "INSERT INTO search_fts_rekeyed (rowid, terms) SELECT r.new, f.terms FROM search_fts f "
        "JOIN search_rekey r ON r.old = f.rowid ORDER BY r.new"
    )
    op.execute("DROP TABLE search_fts")
    op.execute("ALTER TABLE search_fts_rekeyed RENAME TO search_fts")
    op.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
    op.execute("DROP TABLE search_rekey")


def downgrade() -> None:
    """Date keys are valid ids for the previous schema too; only the sequence table goes."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_sequence")
