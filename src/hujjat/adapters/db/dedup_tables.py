"""Near-duplicate tables: one fingerprint per media item, its frame hashes, and recorded matches.

`fingerprint_hashes.id` gives the keys in the on-disk hash index (adapters/hash_index.py): 2*id for
the whole-picture hash, 2*id+1 for the centre hash; ids only grow, so the index catches up by
reading rows above the highest it holds.
"""

from __future__ import annotations

import sqlalchemy as sa

from hujjat.adapters.db.tables import UtcDateTime, metadata

RowId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

fingerprints = sa.Table(
    "fingerprints",
    metadata,
    sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("algorithm", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("quality", sa.Integer, nullable=False),
    sa.Column("frames", sa.Integer, nullable=False),
    sa.Column("duration_ms", sa.BigInteger),
    sa.Column("computed_at", UtcDateTime, nullable=False),
)

fingerprint_hashes = sa.Table(
    "fingerprint_hashes",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False, index=True),
    sa.Column("frame", sa.Integer, nullable=False),
    sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("quality", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("flipped", sa.String(64), nullable=False),
    sa.Column("center", sa.String(64)),
    sa.Column("center_flipped", sa.String(64)),
)

near_duplicate_matches = sa.Table(
    "near_duplicate_matches",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False, index=True),
    sa.Column("other_id", sa.String(26), sa.ForeignKey("items.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("distance", sa.Integer, nullable=False),
    sa.Column("percent", sa.Integer, nullable=False),
    sa.Column("frames", sa.JSON, nullable=False),
    sa.Column("via", sa.String(16), nullable=False),
    sa.Column("found_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("item_id", "other_id", name="uq_near_duplicate_matches_pair"),
)
