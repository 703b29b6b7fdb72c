"""Incidents: incidents, incident_versions, incident_links, incident_reviews.

Revision ID: incidents_0001
Revises: 0001_foundation
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "incidents_0001"
down_revision = "0001_foundation"
branch_labels = ("incidents",)
depends_on = None

UTC_DT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("type", sa.String(48), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sensitivity", sa.String(16), nullable=False),
        sa.Column("start_date", sa.String(10), nullable=False),
        sa.Column("reference", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("source", sa.String(128)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.Column("updated_at", UTC_DT, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.UniqueConstraint("source", name="uq_incidents_source"),
    )
    op.create_index("ix_incidents_type", "incidents", ["type"])
    op.create_index("ix_incidents_state", "incidents", ["state"])
    op.create_index("ix_incidents_start_date", "incidents", ["start_date"])
    op.create_table(
        "incident_versions",
        sa.Column("incident_id", sa.String(26), sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("at", UTC_DT, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
    )
    op.create_table(
        "incident_links",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("incident_id", sa.String(26), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("added_by", sa.String(255), nullable=False),
        sa.Column("added_at", UTC_DT, nullable=False),
        sa.UniqueConstraint("incident_id", "target_kind", "target_id", "role", name="uq_incident_links_target"),
    )
    op.create_index("ix_incident_links_incident_id", "incident_links", ["incident_id"])
    op.create_index("ix_incident_links_target_id", "incident_links", ["target_id"])
    op.create_table(
        "incident_reviews",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("incident_id", sa.String(26), sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reviewer", sa.String(255), nullable=False),
        sa.Column("at", UTC_DT, nullable=False),
    )
    op.create_index("ix_incident_reviews_incident_id", "incident_reviews", ["incident_id"])


def downgrade() -> None:
    for table in ("incident_reviews", "incident_links", "incident_versions", "incidents"):
        op.drop_table(table)
