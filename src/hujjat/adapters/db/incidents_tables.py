"""Tables for incidents: the current record, every version, evidence links and reviews.

`incidents.record` holds the whole current incident as JSON (the domain's to_record()); the other
columns repeat what listing and export filter on. `incident_versions` keeps every version ever
saved with the change that produced it, so history is shown from the database as well as from the
custody log, and nothing is overwritten. Reference incidents (imported from ACLED) live in the same
table with `reference` set, and are left out of lists and exports unless asked for.
"""

from __future__ import annotations

import sqlalchemy as sa

from hujjat.adapters.db.tables import UtcDateTime, metadata

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("type", sa.String(48), nullable=False, index=True),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("sensitivity", sa.String(16), nullable=False),
    sa.Column("start_date", sa.String(10), nullable=False, index=True),
    sa.Column("reference", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source", sa.String(128), unique=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("updated_by", sa.String(255), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("record", sa.JSON, nullable=False),
)

incident_versions = sa.Table(
    "incident_versions",
    metadata,
    sa.Column("incident_id", sa.String(26), sa.ForeignKey("incidents.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("changes", sa.JSON, nullable=False),
    sa.Column("record", sa.JSON, nullable=False),
)

incident_links = sa.Table(
    "incident_links",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("incident_id", sa.String(26), sa.ForeignKey("incidents.id"), nullable=False, index=True),
    sa.Column("target_kind", sa.String(16), nullable=False),
    sa.Column("target_id", sa.String(64), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("added_by", sa.String(255), nullable=False),
    sa.Column("added_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("incident_id", "target_kind", "target_id", "role", name="uq_incident_links_target"),
)

incident_reviews = sa.Table(
    "incident_reviews",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("incident_id", sa.String(26), sa.ForeignKey("incidents.id"), nullable=False, index=True),
    sa.Column("from_state", sa.String(16), nullable=False),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("reviewer", sa.String(255), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
)
