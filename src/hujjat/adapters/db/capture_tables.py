"""Tables for web captures: one row per capture attempt and one per artefact it stored.

Artefacts point at evidence items (the bytes live in the blob store like any other item); the
capture row keeps what the server said (status, headers as [name, value] pairs in order) and the
decoded page text for search, and its sensitivity (who may see it: services/access.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from hujjat.adapters.db.tables import UtcDateTime, metadata

captures = sa.Table(
    "captures",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("final_url", sa.Text),
    sa.Column("http_status", sa.Integer),
    sa.Column("status_text", sa.Text),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("error", sa.Text),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("text", sa.Text),
    sa.Column("encoding", sa.String(64)),
    sa.Column("encoding_source", sa.String(16)),
    sa.Column("warnings", sa.JSON, nullable=False),
    sa.Column("tool", sa.Text),
    sa.Column("sensitivity", sa.String(16), nullable=False, server_default="internal", index=True),  # capture_0002
)

capture_artefacts = sa.Table(
    "capture_artefacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("capture_id", sa.String(26), sa.ForeignKey("captures.id"), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False, index=True),
    sa.Column("url", sa.Text),
    sa.Column("name", sa.Text),
)
