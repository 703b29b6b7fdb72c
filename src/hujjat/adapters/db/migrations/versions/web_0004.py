"""Web: an index for a record's custody trail by action, newest first (issue 7): the evidence page
shows the trail without its `record.viewed` entries, which grow with every view of a restricted
record, and counts them; both read this index instead of every entry of the record.

Revision ID: web_0004
Revises: web_0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "web_0004"
down_revision = "web_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_custody_subject_action_seq", "custody_entries", ["subject", "action", "seq"])


def downgrade() -> None:
    op.drop_index("ix_custody_subject_action_seq", table_name="custody_entries")
