"""Incident use cases: create, edit, link evidence, review, show (with history) and list.

Every change runs in one transaction that stores the new version (with the change that made it)
and appends a custody entry holding the same change, so the full history can be shown from either
and nothing is silently overwritten. All validation (taxonomy, dates, coordinates, workflow)
happens before anything is written; a refused change leaves the archive as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hujjat.domain.errors import NotFound, UsageError
from hujjat.domain.ids import new_id
from hujjat.domain.incidents import (
    COUNT_FIELDS,
    Counts,
    Incident,
    IncidentError,
    IncidentLink,
    IncidentSensitivity,
    IncidentVersion,
    LinkRole,
    Place,
    TimePrecision,
    apply_changes,
    clean_tags,
    diff_records,
    latest_local_date,
    parse_coordinate,
    parse_count,
    parse_date,
    parse_enum,
)
from hujjat.domain.verification import parse_state, review, state_after_edit
from hujjat.domain.vocabulary import Taxonomy
from hujjat.ports import Transaction
from hujjat.ports.incidents import IncidentFilter
from hujjat.ports.places import PlaceResolver
from hujjat.services.context import ArchivePorts
from hujjat.services.search import refresh_records


@dataclass
class IncidentFields:
    """Values as the user typed them; None means "not given" (for edits: unchanged)."""

    title: str | None = None
    type: str | None = None
    subtype: str | None = None
    date: str | None = None
    end_date: str | None = None
    time: str | None = None
    precision: str | None = None
    place: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    geo_precision: int | None = None
    country: str | None = None
    description: str | None = None
    actors: list[str] | None = None
    targets: list[str] | None = None
    counts: dict[str, str] = field(default_factory=dict)
    tags: list[str] | None = None
    sensitivity: str | None = None


def resolve_place(places: PlaceResolver | None, fields: IncidentFields, current: Place | None = None) -> Place | None:
    """The place the fields describe (manual coordinates win), or None when they do not touch it."""
    manual = fields.latitude is not None or fields.longitude is not None
    if fields.place is None and not manual and fields.geo_precision is None:
        return None
    text = fields.place if fields.place is not None else (current.text if current else "")
    if manual:
        if fields.latitude is None or fields.longitude is None:
            raise UsageError("give both --lat and --lon")
        lat = parse_coordinate(fields.latitude, "latitude")
        lon = parse_coordinate(fields.longitude, "longitude")
        if places is None:
            return Place(text=text, name=text or None, latitude=lat, longitude=lon,
                         geo_precision=fields.geo_precision or 1, source="manual")
        return places.at(lat, lon, text, fields.geo_precision or 1)
    if fields.place is None and current is not None:
        return replace(current, geo_precision=fields.geo_precision)
    if not text.strip():
        raise UsageError("--place is empty")
    if places is None:
        raise UsageError("no gazetteer is available: give --lat and --lon")
    place = places.resolve(text, fields.country)
    if fields.geo_precision is not None:
        place = replace(place, geo_precision=fields.geo_precision)
    return place


def _changes(fields: IncidentFields, taxonomy: Taxonomy, place: Place | None, base: Incident | None) -> dict[str, Any]:
    """Domain values for every field given (checked against the taxonomy by the caller)."""
    changes: dict[str, Any] = {}
    if fields.title is not None:
        changes["title"] = fields.title.strip()
    if fields.description is not None:
        changes["description"] = fields.description.strip()
    if fields.type is not None:
        taxonomy.event_type(fields.type)
        changes["type"] = fields.type
        if fields.subtype is None and base is not None and base.type != fields.type:
            changes["subtype"] = None
    if fields.subtype is not None:
        changes["subtype"] = fields.subtype or None
    if fields.date is not None:
        changes["start"] = parse_date(fields.date, "date")
    if fields.end_date is not None:
        changes["end"] = parse_date(fields.end_date, "end date") if fields.end_date else None
    if fields.time is not None:
        changes["time"] = fields.time or None
    if fields.precision is not None:
        changes["time_precision"] = parse_enum(TimePrecision, fields.precision, "time precision")
    if place is not None:
        changes["place"] = place
    if fields.actors is not None:
        changes["actors"] = list(dict.fromkeys(a.strip() for a in fields.actors if a.strip()))
    if fields.targets is not None:
        changes["targets"] = list(dict.fromkeys(t.strip() for t in fields.targets if t.strip()))
    if fields.tags is not None:
        changes["tags"] = clean_tags(fields.tags)
    if fields.sensitivity is not None:
        changes["sensitivity"] = parse_enum(IncidentSensitivity, fields.sensitivity, "sensitivity")
    if fields.counts:
        unknown = set(fields.counts) - set(COUNT_FIELDS)
        if unknown:
            raise IncidentError(f"unknown count(s): {', '.join(sorted(unknown))}")
        current = base.counts.to_record() if base else {}
        current.update({k: parse_count(v, k) for k, v in fields.counts.items()})
        changes["counts"] = Counts(**current)
    return changes


def _check(incident: Incident, taxonomy: Taxonomy, ports: ArchivePorts, old_type: str | None = None) -> None:
    incident.validate(latest_local_date(ports.clock.now()))
    taxonomy.check(incident.type, incident.subtype, incident.actors, incident.targets,
                   allow_disabled=incident.type == old_type)


def _record_version(tx: Transaction, ports: ArchivePorts, incident: Incident, action: str,
                    changes: dict[str, Any]) -> None:
    tx.incidents.add_version(
        IncidentVersion(incident.id, incident.version, action, ports.actor, incident.updated_at, changes,
                        incident.to_record())
    )


def create_incident(ports: ArchivePorts, taxonomy: Taxonomy, places: PlaceResolver | None,
                    fields: IncidentFields) -> dict[str, Any]:
    if not fields.title or not fields.type or not fields.date:
        raise UsageError("a new incident needs --title, --type and --date")
    place = resolve_place(places, fields)
    if place is None:
        raise UsageError("a new incident needs --place (or --lat and --lon)")
    now = ports.clock.now()
    changes = _changes(fields, taxonomy, place, None)
    incident = Incident(id=new_id(), created_by=ports.actor, created_at=now, updated_by=ports.actor,
                        updated_at=now, **changes)
    _check(incident, taxonomy, ports)
    record = incident.to_record()
    with ports.uow() as tx:
        tx.incidents.add(incident)
        _record_version(tx, ports, incident, "created", {"record": record})
        tx.custody.append(ports.actor, "incident.created", incident.id, {"record": record})
    refresh_records(ports, "incident", [incident.id])
    return record


def edit_incident(ports: ArchivePorts, taxonomy: Taxonomy, places: PlaceResolver | None, reference: str,
                  fields: IncidentFields) -> dict[str, Any]:
    with ports.uow(read_only=True) as tx:
        current = tx.incidents.resolve(reference)
    if current.reference:
        raise IncidentError(f"incident {current.id} is a reference incident (imported); it is not edited here")
    place = resolve_place(places, fields, current.place)
    changes = _changes(fields, taxonomy, place, current)
    if not changes:
        raise UsageError("nothing to change: give at least one field to edit")
    now = ports.clock.now()
    updated = apply_changes(current, changes, ports.actor, now)
    _check(updated, taxonomy, ports, old_type=current.type)
    demoted = state_after_edit(current.state)
    if demoted != current.state:
        updated = replace(updated, state=demoted)
    diff = diff_records(current.to_record(), updated.to_record())
    if not diff:
        raise UsageError("nothing changed: the values given are the current ones")
    with ports.uow() as tx:
        latest = tx.incidents.get(current.id)
        if latest is None or latest.version != current.version:
            raise IncidentError(f"incident {current.id} changed meanwhile; run the edit again")
        tx.incidents.save(updated)
        _record_version(tx, ports, updated, "edited", diff)
        tx.custody.append(ports.actor, "incident.edited", updated.id, {"version": updated.version, "changes": diff})
    refresh_records(ports, "incident", [updated.id])
    return updated.to_record()


def _link_target(tx: Transaction, reference: str, kind: str | None) -> tuple[str, str]:
    """(kind, id) for an evidence item, post or capture reference."""
    if kind in (None, "item"):
        try:
            return "item", tx.items.resolve(reference).id
        except NotFound:
            if kind == "item":
                raise
    for other in ("post", "capture"):
        if kind in (None, other):
            found = tx.incidents.find_target(other, reference)
            if found:
                return other, found
    raise NotFound(f"no evidence item, post or capture matches {reference!r}")


def link_incident(ports: ArchivePorts, reference: str, target: str, role: str, note: str | None,
                  kind: str | None = None) -> dict[str, Any]:
    link_role = parse_enum(LinkRole, role, "role")
    now = ports.clock.now()
    with ports.uow() as tx:
        incident = tx.incidents.resolve(reference)
        if incident.reference:
            raise IncidentError(f"incident {incident.id} is a reference incident; link evidence to your own")
        target_kind, target_id = _link_target(tx, target, kind)
        link = IncidentLink(new_id(), incident.id, target_kind, target_id, link_role,
                            (note or "").strip() or None, ports.actor, now)
        if not tx.incidents.add_link(link):
            return {**link.to_record(), "already_linked": True}
        # Linking evidence shapes the incident, so it counts as an edit for the two-person rule.
        updated = apply_changes(incident, {}, ports.actor, now)
        tx.incidents.save(updated)
        change: dict[str, Any] = {"link": link.to_record()}
        _record_version(tx, ports, updated, "linked", change)
        tx.custody.append(ports.actor, "incident.linked", incident.id, change)
    return {**link.to_record(), "already_linked": False}


def review_incident(ports: ArchivePorts, reference: str, state: str, note: str) -> dict[str, Any]:
    target = parse_state(state)
    now = ports.clock.now()
    with ports.uow() as tx:
        incident = tx.incidents.resolve(reference)
        updated, record = review(incident, target, note, ports.actor, now)
        review_id = new_id()
        tx.incidents.save(updated)
        tx.incidents.add_review(review_id, record)
        details: dict[str, Any] = {"review": review_id, "from": record.from_state.value, "to": record.to_state.value,
                   "note": record.note, "version": updated.version}
        tx.custody.append(ports.actor, "incident.reviewed", incident.id, details)
    refresh_records(ports, "incident", [updated.id])
    return {"id": updated.id, "state": updated.state, **details, "reviewer": ports.actor, "at": now.isoformat()}


def incident_detail(ports: ArchivePorts, reference: str, custody: bool = True) -> dict[str, Any]:
    """`custody=False`: without the custody trail, which views of a restricted incident grow
    without bound (the web pages and API read it in pages)."""
    with ports.uow(read_only=True) as tx:
        incident = tx.incidents.resolve(reference)
        versions = tx.incidents.versions(incident.id)
        links = tx.incidents.links(incident.id)
        reviews = tx.incidents.reviews(incident.id)
        trail = tx.custody.entries_for([incident.id]) if custody else []
    return {
        **incident.to_record(),
        "links": [link.to_record() for link in links],
        "reviews": [
            {"from": r.from_state.value, "to": r.to_state.value, "note": r.note, "reviewer": r.reviewer,
             "at": r.at.isoformat()}
            for r in reviews
        ],
        "history": [
            {"version": v.version, "action": v.action, "actor": v.actor, "at": v.at.isoformat(), "changes": v.changes}
            for v in versions
        ],
        "custody": [
            {"seq": e.seq, "time": e.time, "actor": e.actor, "action": e.action, "hash": e.hash} for e in trail
        ],
    }


def list_incidents(ports: ArchivePorts, query: IncidentFilter) -> list[dict[str, Any]]:
    with ports.uow(read_only=True) as tx:
        incidents = list(tx.incidents.iter_incidents(query))
        links = tx.incidents.links_by_incident([i.id for i in incidents])
    return [{**i.to_record(), "links": [link.to_record() for link in links.get(i.id, [])]} for i in incidents]


def check_incidents(ports: ArchivePorts) -> dict[str, Any]:
    """Cross-check incident rows against their stored versions and the custody log: every version
    from 1 up is there, the current record is the last version, and the custody log holds the
    record each incident was created (or imported) with. Finds rows changed behind Hujjat's back."""
    problems: list[str] = []
    checked = 0
    with ports.uow(read_only=True) as tx:
        for incident in tx.incidents.iter_incidents(IncidentFilter(include_reference=True)):
            checked += 1
            versions = tx.incidents.versions(incident.id)
            numbers = [v.version for v in versions]
            if numbers != list(range(1, len(numbers) + 1)) or not numbers:
                problems.append(f"incident {incident.id}: versions {numbers} are not 1..n")
                continue
            current = incident.to_record()
            # Reviews change only the state, recorded as reviews rather than versions.
            if {**versions[-1].record, "state": None} != {**current, "state": None}:
                problems.append(f"incident {incident.id}: current record differs from its last stored version")
            reviews = tx.incidents.reviews(incident.id)
            last_review = reviews[-1] if reviews else None
            expected = (last_review.to_state.value if last_review and last_review.at >= versions[-1].at
                        else versions[-1].record.get("state"))
            if incident.state != expected:
                problems.append(f"incident {incident.id}: state {incident.state} is not the reviewed {expected}")
            entries = tx.custody.entries_for([incident.id])
            first = next((e for e in entries if e.action in ("incident.created", "incident.imported")), None)
            if first is None:
                problems.append(f"incident {incident.id}: no custody entry records its creation")
            elif first.details.get("record") != versions[0].record:
                problems.append(f"incident {incident.id}: version 1 differs from the record logged at creation")
            logged = sum(1 for e in entries if e.action != "incident.reviewed")
            if logged < len(versions):
                problems.append(f"incident {incident.id}: {len(versions)} versions but {logged} custody entries")
    return {"incidents": checked, "problems": problems, "ok": not problems}
