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
