"""Tables for accounts: users, API tokens (only a SHA-256 of each token is kept) and server-side
web sessions (only a SHA-256 of the session id is kept, so a database leak yields no cookie), and
failed sign-in counters (shared by every server process)."""

from __future__ import annotations

import sqlalchemy as sa

from hujjat.adapters.db.tables import UtcDateTime, metadata

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("restricted_access", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("totp_secret", sa.String(64)),
    sa.Column("language", sa.String(8), nullable=False, server_default="en"),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("user_id", sa.String(26), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(128), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(26), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

login_failures = sa.Table(  # accounts_0002: failed sign-ins per `ip:ADDRESS` / `user:NAME`, shared by all processes
    "login_failures",
    metadata,
    sa.Column("key", sa.String(320), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_start", sa.Float, nullable=False),  # Unix seconds
    sa.Column("locked_until", sa.Float),  # Unix seconds; set when the limit is reached
)
