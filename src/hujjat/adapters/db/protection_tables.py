"""Protection tables: each encrypted object's wrapped data key (or the fact it was shredded), and
redacted derivatives linked to their originals.

`blob_keys` is keyed by the object's address (SHA-256 of its original bytes). Shredding sets
`wrapped` to NULL and stamps `shredded_at`; SQLite runs with `secure_delete` so the old value's
bytes are overwritten in the file, not left in a free page.
"""

from __future__ import annotations

import sqlalchemy as sa

from hujjat.adapters.db.tables import UtcDateTime, metadata

blob_keys = sa.Table(
    "blob_keys",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("master_id", sa.String(32)),
    sa.Column("wrapped", sa.LargeBinary),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("shredded_at", UtcDateTime),
)

derivatives = sa.Table(
    "derivatives",
    metadata,
    sa.Column("derivative_id", sa.String(26), sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("original_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False, index=True),
    sa.Column("operations", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
