"""Web: an index that answers the incident list's counts (issue 7).

Every incident list and the dashboard count the incidents a user may see ("reference IS false",
a sensitivity set, optionally state and type); without an index covering those columns SQLite
read every row of `incidents`, records included (12 ms for 10,000 incidents, on every list
page). The page queries keep reading ix_incidents_start_date in order (the repository keeps them
off this index on SQLite).

Revision ID: web_0005
Revises: web_0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "web_0005"
down_revision = "web_0004"
branch_labels = None
depends_on = "incidents_0001"  # the incidents table must exist first


def upgrade() -> None:
    op.create_index("ix_incidents_listing", "incidents", ["reference", "sensitivity", "state", "type"])


def downgrade() -> None:
    op.drop_index("ix_incidents_listing", table_name="incidents")
