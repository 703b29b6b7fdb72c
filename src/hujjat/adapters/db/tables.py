"""Foundation tables. Feature modules add theirs to the same `metadata` in modules of their own.

Timestamps are stored as timezone-aware UTC; JSON documents with SQLAlchemy's portable JSON type.
Custody entries keep their canonical body as text, byte for byte what was hashed.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

UtcDateTime = sa.DateTime(timezone=True)

archive_info = sa.Table(
    "archive_info",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("media_type", sa.String(255), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("sensitivity", sa.String(16), nullable=False, server_default="internal"),
)

acquisitions = sa.Table(
    "acquisitions",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False, index=True),
    sa.Column("acquired_at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("source_kind", sa.String(32), nullable=False),
    sa.Column("source", sa.Text),
    sa.Column("path", sa.Text),
    sa.Column("original_name", sa.Text),
    sa.Column("original_mtime", UtcDateTime),
    sa.Column("note", sa.Text),
    # SHA-256 of Acquisition.key(): makes "the same acquisition again" one indexed lookup.
    sa.Column("dedup_key", sa.String(64), nullable=False, unique=True),
)

item_metadata = sa.Table(
    "item_metadata",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False, index=True),
    sa.Column("extractor", sa.String(128), nullable=False),
    sa.Column("version", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("extracted_at", UtcDateTime, nullable=False),
)

custody_entries = sa.Table(
    "custody_entries",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("subject", sa.String(128), index=True),
    sa.Column("body", sa.Text, nullable=False),
)

# One row, locked by every writer that appends to the chain: serialises appends on PostgreSQL
# (SQLite serialises all writers already, with BEGIN IMMEDIATE).
custody_head = sa.Table(
    "custody_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

custody_checkpoints = sa.Table(
    "custody_checkpoints",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("head", sa.String(64), nullable=False),
    sa.Column("time", sa.String(40), nullable=False),
    sa.Column("archive", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),
)
