"""Posts: a sensitivity level per post (public, internal, restricted; existing posts become
internal, the level items default to), with an index for counting what a user may see (issue 7).

Revision ID: posts_0002
Revises: posts_0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "posts_0002"
down_revision = "posts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("posts", sa.Column("sensitivity", sa.String(16), nullable=False, server_default="internal"))
    op.create_index("ix_posts_sensitivity", "posts", ["sensitivity"])


def downgrade() -> None:
    op.drop_index("ix_posts_sensitivity", table_name="posts")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("sensitivity")
