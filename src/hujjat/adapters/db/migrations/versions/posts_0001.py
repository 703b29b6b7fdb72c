"""Posts from messaging exports: chats, posts, post_versions, post_media.

Revision ID: posts_0001
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "posts_0001"
down_revision = "0001_foundation"
branch_labels = ("posts",)
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("raw_id", sa.BigInteger),
        sa.Column("name", sa.Text),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("username", sa.String(64)),
        sa.Column("first_seen", UTC_DT, nullable=False),
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("chat_key", sa.String(128), sa.ForeignKey("chats.key"), nullable=False),
        sa.Column("message_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("date_utc", UTC_DT),
        sa.Column("date_local", sa.String(40)),
        sa.Column("edited_utc", UTC_DT),
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
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.UniqueConstraint("chat_key", "message_id", name="uq_posts_chat_message"),
    )
    op.create_index("ix_posts_date_utc", "posts", ["date_utc"])
    op.create_table(
        "post_versions",
        sa.Column("post_id", sa.String(26), sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("entities", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("edited_utc", UTC_DT),
        sa.Column("edited_local", sa.String(40)),
        sa.Column("source_export", sa.String(64)),
        sa.Column("json_path", sa.Text, nullable=False),
        sa.Column("recorded_at", UTC_DT, nullable=False),
    )
    op.create_table(
        "post_media",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("post_id", sa.String(26), sa.ForeignKey("posts.id"), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(26), sa.ForeignKey("items.id")),
        sa.Column("sha256", sa.String(64)),
        sa.Column("size", sa.BigInteger),
        sa.Column("reason", sa.Text),
        sa.Column("ref", sa.JSON, nullable=False),
        sa.Column("recorded_at", UTC_DT, nullable=False),
        sa.Column("dedup_key", sa.String(64), nullable=False),
        sa.UniqueConstraint("dedup_key", name="uq_post_media_dedup_key"),
    )
    op.create_index("ix_post_media_post_id", "post_media", ["post_id"])
    op.create_index("ix_post_media_item_id", "post_media", ["item_id"])


def downgrade() -> None:
    op.drop_table("post_media")
    op.drop_table("post_versions")
    op.drop_index("ix_posts_date_utc", table_name="posts")
    op.drop_table("posts")
    op.drop_table("chats")
