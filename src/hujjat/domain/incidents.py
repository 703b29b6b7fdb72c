"""Incidents: coded events (when, where, what, who, how many) and the evidence linked to them.

An incident is immutable here: an edit produces a new Incident and a field-by-field diff, which the
service stores as a new version and a custody entry, so nothing is ever silently overwritten.
Counts keep "unknown" (None) distinct from 0. Coordinates are Decimals, written as decimal strings,
because custody records allow no floats. There is deliberately no field for anyone's religion,
ethnicity, origin or citizenship.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from hujjat.domain.errors import HujjatError

EARLIEST = date(1900, 1, 1)
COUNT_FIELDS = ("detained", "summoned", "injured", "killed", "deported")
TAG_RE = re.compile(r"^[^\s,;][^,;]{0,63}$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
E = TypeVar("E", bound=StrEnum)


class IncidentError(HujjatError):
    """An incident value is invalid; nothing was changed."""


class TimePrecision(StrEnum):
    EXACT = "exact"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def acled(self) -> int:
        """ACLED time_precision: 1 actual date, 2 a specific week, 3 a longer span."""
        return {"exact": 1, "day": 1, "week": 2, "month": 3}[self.value]


class IncidentSensitivity(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    RESTRICTED = "restricted"


class LinkRole(StrEnum):
    DEPICTS = "depicts"
    REPORTS = "reports"
    CORROBORATES = "corroborates"
    CONTRADICTS = "contradicts"


def parse_enum(kind: type[E], value: str, what: str) -> E:
    try:
        return kind(value.strip().lower())
    except ValueError:
        raise IncidentError(
            f"invalid {what} {value!r}; expected one of: {', '.join(m.value for m in kind)}"
        ) from None


def parse_date(text: str, what: str = "date") -> date:
    """YYYY-MM-DD (also DD-MM-YYYY, which older ACLED files use)."""
    raw = text.strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d %B %Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise IncidentError(f"invalid {what} {text!r}: expected YYYY-MM-DD")


def latest_local_date(now: datetime) -> date:
    """The latest calendar date anywhere on Earth at `now` (UTC+14), so a monitor east of UTC can
    enter today's date before it is today in UTC."""
    return (now.astimezone(UTC) + timedelta(hours=14)).date()


def check_date(value: date, today: date, what: str = "date") -> None:
    if value < EARLIEST:
        raise IncidentError(f"{what} {value.isoformat()} is before 1900")
    if value > today:
        raise IncidentError(f"{what} {value.isoformat()} is in the future")


def parse_coordinate(value: str | float | Decimal, what: str) -> Decimal:
    """A latitude (|x| <= 90) or longitude (|x| <= 180) as a Decimal with at most 6 places."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise IncidentError(f"invalid {what} {value!r}: expected a decimal number") from None
    limit = 90 if what == "latitude" else 180
    if not number.is_finite() or abs(number) > limit:
        raise IncidentError(f"invalid {what} {value!r}: must be between -{limit} and {limit}")
    # Plain notation ("60", not "6E+1"), at most 6 decimal places (about 0.1 m).
    rounded = number.quantize(Decimal("0.000001"))
    return Decimal(format(rounded.normalize(), "f")) if rounded != 0 else Decimal(0)


@dataclass(frozen=True)
class Place:
    """Where an incident happened, as resolved (or entered) and with an ACLED-style geo precision:
    1 the exact place, 2 near it or a part of it, 3 only the region is known."""

    text: str
    name: str | None = None
    country_code: str | None = None
    country: str | None = None
    admin1: str | None = None
    admin2: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    geo_precision: int | None = None
    source: str = "unresolved"  # gazetteer | manual | acled | unresolved
    geonameid: int | None = None

    def __post_init__(self) -> None:
        if (self.latitude is None) != (self.longitude is None):
            raise IncidentError("give both latitude and longitude, or neither")
        if self.geo_precision is not None and self.geo_precision not in (1, 2, 3):
            raise IncidentError(f"invalid geo precision {self.geo_precision}: expected 1, 2 or 3")

    def to_record(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "name": self.name,
            "country_code": self.country_code,
            "country": self.country,
            "admin1": self.admin1,
            "admin2": self.admin2,
            "latitude": None if self.latitude is None else str(self.latitude),
            "longitude": None if self.longitude is None else str(self.longitude),
            "geo_precision": self.geo_precision,
            "source": self.source,
            "geonameid": self.geonameid,
        }

    @classmethod
    def from_record(cls, raw: dict[str, Any]) -> Place:
        lat, lon = raw.get("latitude"), raw.get("longitude")
        return cls(
            text=raw.get("text") or "",
            name=raw.get("name"),
            country_code=raw.get("country_code"),
            country=raw.get("country"),
            admin1=raw.get("admin1"),
            admin2=raw.get("admin2"),
            latitude=None if lat is None else Decimal(lat),
            longitude=None if lon is None else Decimal(lon),
            geo_precision=raw.get("geo_precision"),
            source=raw.get("source") or "unresolved",
            geonameid=raw.get("geonameid"),
        )


@dataclass(frozen=True)
class Counts:
    """How many people: None means unknown, which is not the same as 0."""

    detained: int | None = None
    summoned: int | None = None
    injured: int | None = None
    killed: int | None = None
    deported: int | None = None

    def __post_init__(self) -> None:
        for name in COUNT_FIELDS:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise IncidentError(
                    f"invalid {name} count {value!r}: expected a whole number >= 0 or unknown"
                )

    def to_record(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in COUNT_FIELDS}


def parse_count(text: str, what: str) -> int | None:
    raw = text.strip().lower()
    if raw in ("", "unknown", "?", "none"):
        return None
    if not raw.isdigit():
        raise IncidentError(f"invalid {what} count {text!r}: expected a whole number >= 0 or 'unknown'")
    return int(raw)


def clean_tags(tags: list[str]) -> list[str]:
    result: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not TAG_RE.match(tag):
            raise IncidentError(f"invalid tag {tag!r}: 1-64 characters, no commas or semicolons")
        if tag not in result:
            result.append(tag)
    return result


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    type: str
    start: date
    place: Place
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    subtype: str | None = None
    description: str = ""
    end: date | None = None
    time: str | None = None  # HH:MM (local), only with exact precision
    time_precision: TimePrecision = TimePrecision.DAY
    actors: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    tags: list[str] = field(default_factory=list)
    sensitivity: IncidentSensitivity = IncidentSensitivity.INTERNAL
    state: str = "unverified"
    version: int = 1
    reference: bool = False  # loaded from an outside dataset (ACLED), not this archive's own
    source: str | None = None  # e.g. "acled:RUS8075" for reference incidents
    external: dict[str, str] = field(default_factory=dict)  # the outside row, as given

    def validate(self, today: date) -> None:
        if not self.title.strip():
            raise IncidentError("an incident needs a title")
        if len(self.title) > 300:
            raise IncidentError("the title is longer than 300 characters")
        check_date(self.start, today, "start date")
        if self.end is not None:
            check_date(self.end, today, "end date")
            if self.end < self.start:
                raise IncidentError(f"end date {self.end} is before the start date {self.start}")
        if self.time is not None:
            if not TIME_RE.match(self.time):
                raise IncidentError(f"invalid time {self.time!r}: expected HH:MM")
            if self.time_precision is not TimePrecision.EXACT:
                raise IncidentError("a time of day needs --precision exact")

    def to_record(self) -> dict[str, Any]:
        """Everything about the incident, canonical-JSON-able (stored, diffed, logged, exported)."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "type": self.type,
            "subtype": self.subtype,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "time": self.time,
            "time_precision": self.time_precision.value,
            "place": self.place.to_record(),
            "actors": list(self.actors),
            "targets": list(self.targets),
            "counts": self.counts.to_record(),
            "tags": list(self.tags),
            "sensitivity": self.sensitivity.value,
            "state": self.state,
            "version": self.version,
            "reference": self.reference,
            "source": self.source,
            "external": dict(self.external),
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "updated_by": self.updated_by,
            "updated_at": self.updated_at.isoformat(),
        }

    @classmethod
    def from_record(cls, raw: dict[str, Any]) -> Incident:
        return cls(
            id=raw["id"],
            title=raw["title"],
            description=raw.get("description") or "",
            type=raw["type"],
            subtype=raw.get("subtype"),
            start=date.fromisoformat(raw["start"]),
            end=date.fromisoformat(raw["end"]) if raw.get("end") else None,
            time=raw.get("time"),
            time_precision=TimePrecision(raw.get("time_precision", "day")),
            place=Place.from_record(raw.get("place") or {}),
            actors=list(raw.get("actors") or []),
            targets=list(raw.get("targets") or []),
            counts=Counts(**(raw.get("counts") or {})),
            tags=list(raw.get("tags") or []),
            sensitivity=IncidentSensitivity(raw.get("sensitivity", "internal")),
            state=raw.get("state", "unverified"),
            version=int(raw.get("version", 1)),
            reference=bool(raw.get("reference", False)),
            source=raw.get("source"),
            external=dict(raw.get("external") or {}),
            created_by=raw["created_by"],
            created_at=datetime.fromisoformat(raw["created_at"]),
            updated_by=raw["updated_by"],
            updated_at=datetime.fromisoformat(raw["updated_at"]),
        )


def incident_summary(raw: dict[str, Any]) -> dict[str, Any]:
    """What an incident list shows, read from a stored record (Incident.to_record's shape, with
    from_record's defaults) without building the Incident: from_record checks and converts every
    field, about 12 µs a record, a seventh of a 50-row list page."""
    place = raw.get("place") or {}
    return {
        "id": raw["id"],
        "title": raw["title"],
        "type": raw["type"],
        "start": raw["start"],
        "place": {"name": place.get("name"), "text": place.get("text") or ""},
        "state": raw.get("state", "unverified"),
        "sensitivity": raw.get("sensitivity", IncidentSensitivity.INTERNAL.value),
    }

# Fields an edit may change (the rest are managed: id, state, version, authorship, provenance).
EDITABLE = frozenset(
    {
        "title",
        "description",
        "type",
        "subtype",
        "start",
        "end",
        "time",
        "time_precision",
        "place",
        "actors",
        "targets",
        "counts",
        "tags",
        "sensitivity",
    }
)


def apply_changes(incident: Incident, changes: dict[str, Any], actor: str, now: datetime) -> Incident:
    """A new version of the incident with `changes` (domain values) applied; validation is the caller's."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise IncidentError(f"these fields cannot be edited: {', '.join(sorted(unknown))}")
    return replace(incident, **changes, version=incident.version + 1, updated_by=actor, updated_at=now)


def diff_records(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """{field: {"from": old, "to": new}} for every top-level field that differs (nested ones too)."""
    changes: dict[str, Any] = {}
    for key in sorted(set(old) | set(new)):
        if key in ("version", "updated_at", "updated_by"):
            continue
        before, after = old.get(key), new.get(key)
        if before != after:
            changes[key] = {"from": before, "to": after}
    return changes


LINK_KINDS = ("item", "post", "capture")


@dataclass(frozen=True)
class IncidentLink:
    """Evidence behind an incident: an item, post or capture, in a role, with a note."""

    id: str
    incident_id: str
    target_kind: str  # item | post | capture
    target_id: str
    role: LinkRole
    note: str | None
    added_by: str
    added_at: datetime

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id, "incident_id": self.incident_id, "target_kind": self.target_kind,
            "target_id": self.target_id, "role": self.role.value, "note": self.note,
            "added_by": self.added_by, "added_at": self.added_at.isoformat(),
        }


@dataclass(frozen=True)
class IncidentVersion:
    incident_id: str
    version: int
    action: str  # created | edited | reviewed | linked | imported
    actor: str
    at: datetime
    changes: dict[str, Any]
    record: dict[str, Any]
