"""SQL repository for incidents (implements ports.incidents.IncidentRepository)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.field_cipher import FieldCipher, cipher_of
from hujjat.adapters.db.incidents_tables import incident_links, incident_reviews, incident_versions, incidents
from hujjat.adapters.db.schema import metadata
from hujjat.domain.errors import Ambiguous, NotFound, UsageError
from hujjat.domain.incidents import Incident, IncidentLink, IncidentSensitivity, IncidentVersion, LinkRole
from hujjat.domain.verification import Review, State
from hujjat.ports.incidents import IncidentFilter

MIN_PREFIX = 4
TARGET_TABLES = {"post": "posts", "capture": "captures"}
_LINK_COUNTS = (  # built once: every incident list page runs it
    sa.select(incident_links.c.incident_id, sa.func.count())
    .where(incident_links.c.incident_id.in_(sa.bindparam("ids", expanding=True)))
    .group_by(incident_links.c.incident_id))
# Labels (AAD) of the values sealed on encrypted server databases (adapters/crypto/fields.py).
TITLE, RECORD = "incidents.title", "incidents.record"
VERSION_RECORD, VERSION_CHANGES = "incident_versions.record", "incident_versions.changes"
LINK_NOTE, REVIEW_NOTE = "incident_links.note", "incident_reviews.note"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _columns(incident: Incident, fields: FieldCipher) -> dict[str, Any]:
    """The row; on encrypted server databases the whole record (description, actors, place, ...)
    is sealed, and so is the title of a restricted incident; what lists filter on stays plain."""
    restricted = incident.sensitivity is IncidentSensitivity.RESTRICTED
    return {
        "title": fields.seal(incident.title, TITLE) if restricted else incident.title, "type": incident.type, "state": incident.state,
        "sensitivity": incident.sensitivity.value, "start_date": incident.start.isoformat(),
        "reference": incident.reference, "source": incident.source, "version": incident.version,
        "created_by": incident.created_by, "updated_by": incident.updated_by,
        "updated_at": incident.updated_at, "record": fields.seal_json(incident.to_record(), RECORD),
    }


class SqlIncidentRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def _incident(self, raw: Any) -> Incident:
        return Incident.from_record(cipher_of(self.conn).open_json(raw, RECORD))

    def add(self, incident: Incident) -> None:
        self.conn.execute(incidents.insert().values(id=incident.id, **_columns(incident, cipher_of(self.conn))))

    def save(self, incident: Incident) -> None:
        values = _columns(incident, cipher_of(self.conn))
        self.conn.execute(incidents.update().where(incidents.c.id == incident.id).values(**values))

    def get(self, incident_id: str) -> Incident | None:
        row = self.conn.execute(sa.select(incidents.c.record).where(incidents.c.id == incident_id)).first()
        return self._incident(row.record) if row else None

    def resolve(self, reference: str) -> Incident:
        ref = reference.strip().upper()
        if not ref:
            raise UsageError("an incident reference is empty")
        found = self.get(ref)
        if found is not None:
            return found
        if len(ref) < MIN_PREFIX:
            raise UsageError(f"incident reference {reference!r} is too short: give at least {MIN_PREFIX} characters")
        rows = self.conn.execute(
            sa.select(incidents.c.record).where(incidents.c.id.like(ref.replace("%", "") + "%")).limit(2)
        ).all()
        if not rows:
            raise NotFound(f"no incident matches {reference!r}")
        if len(rows) > 1:
            raise Ambiguous(f"{reference!r} matches more than one incident: give more characters")
        return self._incident(rows[0].record)

    def by_source(self, source: str) -> Incident | None:
        row = self.conn.execute(sa.select(incidents.c.record).where(incidents.c.source == source)).first()
        return self._incident(row.record) if row else None

    def _filtered(self, stmt: sa.Select[Any], query: IncidentFilter, ordered: bool = False) -> sa.Select[Any]:
        """`ordered`: for queries read in date order. On SQLite their reference and sensitivity
        tests are wrapped so that they cannot use ix_incidents_listing (web_0005), which answers
        the counts: SQLite would otherwise fetch every matching row through it and sort them all
        instead of reading ix_incidents_start_date in order and stopping after a page."""
        reference: sa.ColumnElement[Any] = incidents.c.reference
        level: sa.ColumnElement[Any] = incidents.c.sensitivity
        if ordered and self.conn.dialect.name == "sqlite":
            reference = sa.type_coerce(sa.type_coerce(reference, sa.Integer) + 0, sa.Boolean)
            level = level.concat("")
        if query.only_reference:
            stmt = stmt.where(reference.is_(True))
        elif not query.include_reference:
            stmt = stmt.where(reference.is_(False))
        if query.states:
            stmt = stmt.where(incidents.c.state.in_(query.states))
        if query.sensitivities:
            stmt = stmt.where(level.in_(query.sensitivities))
        if query.date_from:
            stmt = stmt.where(incidents.c.start_date >= query.date_from)
        if query.date_to:
            stmt = stmt.where(incidents.c.start_date <= query.date_to)
        if query.type:
            stmt = stmt.where(incidents.c.type == query.type)
        return stmt

    def iter_incidents(self, query: IncidentFilter, batch: int = 1000) -> Iterator[Incident]:
        """In date order, read `batch` rows at a time (a caller that wants the first few asks for
        a small batch)."""
        stmt = self._filtered(sa.select(incidents.c.record).order_by(incidents.c.start_date, incidents.c.id), query,
                              ordered=True)
        for row in self.conn.execute(stmt, execution_options={"yield_per": batch}):
            yield self._incident(row.record)

    def page_incidents(self, query: IncidentFilter, offset: int, limit: int,
                       count: bool = True) -> tuple[list[Incident], int]:
        records, total = self.page_records(query, offset, limit, count)
        return [Incident.from_record(r) for r in records], total

    def page_records(self, query: IncidentFilter, offset: int, limit: int,
                     count: bool = True) -> tuple[list[dict[str, Any]], int]:
        stmt = self._filtered(sa.select(incidents.c.record), query, ordered=True)
        rows = self.conn.execute(stmt.order_by(incidents.c.start_date, incidents.c.id).offset(offset).limit(limit))
        fields = cipher_of(self.conn)
        found = [fields.open_json(row.record, RECORD) for row in rows]
        if not count:
            return found, -1
        total = self.conn.execute(self._filtered(sa.select(sa.func.count()).select_from(incidents), query)).scalar_one()
        return found, int(total)

    def add_version(self, version: IncidentVersion) -> None:
        fields = cipher_of(self.conn)
        self.conn.execute(
            incident_versions.insert().values(
                incident_id=version.incident_id, version=version.version, action=version.action,
                actor=version.actor, at=version.at, changes=fields.seal_json(version.changes, VERSION_CHANGES),
                record=fields.seal_json(version.record, VERSION_RECORD),
            )
        )

    def versions(self, incident_id: str) -> list[IncidentVersion]:
        rows = self.conn.execute(
            sa.select(incident_versions)
            .where(incident_versions.c.incident_id == incident_id)
            .order_by(incident_versions.c.version)
        ).all()
        fields = cipher_of(self.conn)
        return [
            IncidentVersion(r.incident_id, int(r.version), r.action, r.actor, _aware(r.at),
                            fields.open_json(r.changes, VERSION_CHANGES), fields.open_json(r.record, VERSION_RECORD))
            for r in rows
        ]

    def add_link(self, link: IncidentLink) -> bool:
        exists = self.conn.execute(
            sa.select(incident_links.c.id).where(
                incident_links.c.incident_id == link.incident_id,
                incident_links.c.target_kind == link.target_kind,
                incident_links.c.target_id == link.target_id,
                incident_links.c.role == link.role.value,
            )
        ).first()
        if exists:
            return False
        self.conn.execute(
            incident_links.insert().values(
                id=link.id, incident_id=link.incident_id, target_kind=link.target_kind, target_id=link.target_id,
                role=link.role.value, note=cipher_of(self.conn).seal(link.note, LINK_NOTE), added_by=link.added_by, added_at=link.added_at,
            )
        )
        return True

    def _link(self, r: Any) -> IncidentLink:
        note = cipher_of(self.conn).open_(r.note, LINK_NOTE)
        return IncidentLink(r.id, r.incident_id, r.target_kind, r.target_id, LinkRole(r.role), note,
                            r.added_by, _aware(r.added_at))

    def links(self, incident_id: str) -> list[IncidentLink]:
        return self.links_by_incident([incident_id]).get(incident_id, [])

    def links_by_incident(self, incident_ids: list[str]) -> dict[str, list[IncidentLink]]:
        found: dict[str, list[IncidentLink]] = {}
        for start in range(0, len(incident_ids), 500):
            chunk = incident_ids[start : start + 500]
            rows = self.conn.execute(
                sa.select(incident_links).where(incident_links.c.incident_id.in_(chunk)).order_by(incident_links.c.id)
            ).all()
            for r in rows:
                found.setdefault(r.incident_id, []).append(self._link(r))
        return found

    def link_counts(self, incident_ids: list[str]) -> dict[str, int]:
        """How many links each incident has, counted in SQL (a list page shows only the number)."""
        counts: dict[str, int] = {}
        for start in range(0, len(incident_ids), 500):
            rows = self.conn.execute(_LINK_COUNTS, {"ids": incident_ids[start : start + 500]})
            counts.update((incident_id, int(n)) for incident_id, n in rows)
        return counts

    def add_review(self, review_id: str, review: Review) -> None:
        self.conn.execute(
            incident_reviews.insert().values(
                id=review_id, incident_id=review.incident_id, from_state=review.from_state.value,
                to_state=review.to_state.value, note=cipher_of(self.conn).seal(review.note, REVIEW_NOTE), reviewer=review.reviewer, at=review.at,
            )
        )

    def reviews(self, incident_id: str) -> list[Review]:
        rows = self.conn.execute(
            sa.select(incident_reviews)
            .where(incident_reviews.c.incident_id == incident_id)
            .order_by(incident_reviews.c.id)
        ).all()
        fields = cipher_of(self.conn)
        return [
            Review(r.incident_id, State(r.from_state), State(r.to_state), fields.open_(r.note, REVIEW_NOTE) or "",
                   r.reviewer, _aware(r.at))
            for r in rows
        ]

    def find_target(self, kind: str, reference: str) -> str | None:
        table = metadata.tables.get(TARGET_TABLES.get(kind, ""))
        if table is None or "id" not in table.c:
            return None
        ref = reference.strip()
        if not ref:
            return None
        row = self.conn.execute(sa.select(table.c.id).where(table.c.id == ref)).first()
        if row is None and len(ref) >= MIN_PREFIX:
            rows = self.conn.execute(
                sa.select(table.c.id).where(table.c.id.like(ref.upper().replace("%", "") + "%")).limit(2)
            ).all()
            if len(rows) > 1:
                raise Ambiguous(f"{reference!r} matches more than one {kind}: give more characters")
            row = rows[0] if rows else None
        return str(row.id) if row else None
