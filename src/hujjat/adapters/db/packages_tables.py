"""Tables for trusted timestamps and for packages imported from other archives.

`imported_custody_entries.body` keeps the foreign entry's canonical JSON exactly as its archive
hashed it, so the excerpt can be re-verified years later without the sending archive.
"""

from __future__ import annotations

import sqlalchemy as sa

from hujjat.adapters.db.tables import UtcDateTime, metadata

timestamp_tokens = sa.Table(
    "timestamp_tokens",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("subject_kind", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(128), nullable=False, index=True),
    sa.Column("message_sha256", sa.String(64), nullable=False),
    sa.Column("message", sa.LargeBinary, nullable=False),
    sa.Column("tsa_url", sa.Text, nullable=False),
    sa.Column("token", sa.LargeBinary, nullable=False),
    sa.Column("chain_pem", sa.LargeBinary, nullable=False),
    sa.Column("gen_time", sa.String(40), nullable=False),
    sa.Column("tsa", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

imported_packages = sa.Table(
    "imported_packages",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("external_identifier", sa.Text, nullable=False),
    sa.Column("source_archive", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("public_key_pem", sa.Text, nullable=False),
    sa.Column("tagmanifest_sha256", sa.String(64), nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("forced", sa.Boolean, nullable=False),
    sa.Column("problems", sa.JSON, nullable=False),
    sa.Column("bag_info", sa.JSON, nullable=False),
    sa.Column("imported_at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
)

imported_custody_entries = sa.Table(
    "imported_custody_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("package_id", sa.String(26), sa.ForeignKey("imported_packages.id"), nullable=False, index=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

imported_package_items = sa.Table(
    "imported_package_items",
    metadata,
    sa.Column("package_id", sa.String(26), sa.ForeignKey("imported_packages.id"), primary_key=True),
    sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("path", sa.Text, nullable=False),
)
