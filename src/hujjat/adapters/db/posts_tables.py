"""Tables for posts read from messaging exports (Telegram): chats, posts, their versions, media.

A post is unique on (chat_key, message_id). Its row holds the current text; every text it ever
had is a row of post_versions (version 1 is the first seen), so an edit never overwrites
evidence. post_media links a post to evidence items, or records why there is no item
(not exported, missing, refused) with what the export declared (type, size, name).
`custody_batch` names the custody entry subject under which the post's addition was logged.
`sensitivity` (public, internal, restricted) decides who may see the post (services/access.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from hujjat.adapters.db.tables import UtcDateTime, metadata

chats = sa.Table(
    "chats",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("raw_id", sa.BigInteger),
    sa.Column("name", sa.Text),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("username", sa.String(64)),
    sa.Column("first_seen", UtcDateTime, nullable=False),
)

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("chat_key", sa.String(128), sa.ForeignKey("chats.key"), nullable=False),
    sa.Column("message_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("date_utc", UtcDateTime, index=True),
    sa.Column("date_local", sa.String(40)),
    sa.Column("edited_utc", UtcDateTime),
    sa.Column("edited_local", sa.String(40)),
    sa.Column("from_name", sa.Text),
    sa.Column("from_id", sa.String(64)),
    sa.Column("signature", sa.Text),
    sa.Column("forwarded_from", sa.Text),
    sa.Column("saved_from", sa.Text),
    sa.Column("reply_to_message_id", sa.BigInteger),
    sa.Column("reply_to_peer_id", sa.String(64)),
    sa.Column("via_bot", sa.Text),
    sa.Column("action", sa.String(64)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("entities", sa.JSON, nullable=False),
    sa.Column("reactions", sa.JSON),
    sa.Column("views", sa.BigInteger),
    sa.Column("extra", sa.JSON, nullable=False),
    sa.Column("repairs", sa.JSON, nullable=False),
    sa.Column("json_path", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("source_export", sa.String(64)),
    sa.Column("source_item_id", sa.String(26)),
    sa.Column("custody_batch", sa.String(26)),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("sensitivity", sa.String(16), nullable=False, server_default="internal", index=True),  # posts_0002
    sa.UniqueConstraint("chat_key", "message_id", name="uq_posts_chat_message"),
)

post_versions = sa.Table(
    "post_versions",
    metadata,
    sa.Column("post_id", sa.String(26), sa.ForeignKey("posts.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("entities", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("edited_utc", UtcDateTime),
    sa.Column("edited_local", sa.String(40)),
    sa.Column("source_export", sa.String(64)),
    sa.Column("json_path", sa.Text, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
)

post_media = sa.Table(
    "post_media",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("post_id", sa.String(26), sa.ForeignKey("posts.id"), nullable=False, index=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id"), index=True),
    sa.Column("sha256", sa.String(64)),
    sa.Column("size", sa.BigInteger),
    sa.Column("reason", sa.Text),
    sa.Column("ref", sa.JSON, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("dedup_key", sa.String(64), nullable=False, unique=True),
)
