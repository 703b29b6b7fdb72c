"""ACLED's event-data layout: writing incidents as ACLED rows and reading ACLED rows back.

The 31 columns and their order are ACLED's own (acledR asserts them against the API). Values
follow the current API: inter codes as text unless numeric ones are asked for. Reading accepts
the quirks of published files: `dd-mm-yyyy` dates, the "Demostrations" misspelling, numeric or
text inter codes, empty optional columns. A row read in is kept as given (normalised) so a
reference incident exports exactly as ACLED published it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from hujjat.domain.incidents import (
    Counts,
    Incident,
    IncidentError,
    IncidentSensitivity,
    Place,
    TimePrecision,
    check_date,
    latest_local_date,
    parse_coordinate,
    parse_date,
)
from hujjat.domain.vocabulary import ACLED_INTER_LABELS, Taxonomy

COLUMNS = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
)
REQUIRED = ("event_id_cnty", "event_date", "event_type", "sub_event_type", "country", "latitude", "longitude")
CONTINENT_REGIONS = {"EU": "Europe", "AS": "Asia", "AF": "Africa", "NA": "North America", "SA": "South America",
                     "OC": "Oceania", "AN": "Antarctica"}
DISORDER_FIXES = {"Demostrations": "Demonstrations"}
PRECISION_FROM_ACLED = {"1": TimePrecision.DAY, "2": TimePrecision.WEEK, "3": TimePrecision.MONTH}
_LABEL_CODES = {label.casefold(): code for code, label in ACLED_INTER_LABELS.items()}
_LABEL_CODES.update({"state forces": 1, "rebel groups": 2, "political militias": 3, "identity militias": 4,
                     "protestors": 6, "civilians": 7, "external/other forces": 8, "rebel forces": 2,
                     "militia groups": 3, "communal / identity groups": 4, "foreign / others": 8})


@dataclass(frozen=True)
class CountryFacts:
    """What ACLED wants about the country that the gazetteer knows."""

    iso3: str
    iso_numeric: int
    name: str
    region: str


def inter_text(code: int | None, numeric: bool) -> str:
    if not code:
        return "0" if numeric else ""
    return str(code) if numeric else ACLED_INTER_LABELS[code]


def interaction(inter1: int, inter2: int | None, numeric: bool) -> str:
    """ACLED's interaction: two digits, lower code first ("17"), or "10" for one-sided action."""
    if numeric:
        if not inter2:
            return f"{inter1}0"
        low, high = sorted((inter1, inter2))
        return f"{low}{high}"
    if not inter2:
        return f"{ACLED_INTER_LABELS[inter1]} only"
    low, high = sorted((inter1, inter2))
    return f"{ACLED_INTER_LABELS[low]}-{ACLED_INTER_LABELS[high]}"


def _notes(incident: Incident) -> str:
    day = incident.start
    lead = f"On {day.day} {day.strftime('%B')} {day.year}"
    text = f"{lead}, {incident.title.rstrip('.')}."
    if incident.description:
        text += f" {incident.description}"
    counts = [f"{name}={'unknown' if value is None else value}" for name, value in incident.counts.to_record().items()
              if value is not None]
    if counts:
        text += f" [{'; '.join(counts)}]"
    return text


def incident_row(incident: Incident, taxonomy: Taxonomy, country: CountryFacts | None, *, numeric_inter: bool = False,
                 source: str = "Hujjat", source_scale: str = "Local partner") -> dict[str, str]:
    """One ACLED row for an incident (a reference incident gives back the row it came from)."""
    if incident.reference and incident.external:
        return {column: incident.external.get(column, "") for column in COLUMNS}
    kind = taxonomy.types.get(incident.type)
    coding = kind.coding(incident.subtype, incident.counts.detained) if kind else None
    place = incident.place
    country_name = (country.name if country else None) or place.country or ""
    actors = [taxonomy.actors[a] for a in incident.actors if a in taxonomy.actors]
    if not actors and "unknown" in taxonomy.actors:
        actors = [taxonomy.actors["unknown"]]
    targets = [taxonomy.targets[t] for t in incident.targets if t in taxonomy.targets]
    inter1 = actors[0].inter if actors else 8
    inter2 = targets[0].inter if targets else None
    tags = [f"hujjat:{incident.type}" + (f"/{incident.subtype}" if incident.subtype else ""), *incident.tags]
    targeting = bool(coding and coding.civilian_targeting and inter2 == 7)
    return {
        "event_id_cnty": f"{country.iso3 if country else 'XXX'}{incident.id}",
        "event_date": incident.start.isoformat(),
        "year": str(incident.start.year),
        "time_precision": str(incident.time_precision.acled),
        "disorder_type": coding.disorder_type if coding else "",
        "event_type": coding.event_type if coding else "",
        "sub_event_type": coding.sub_event_type if coding else "",
        "actor1": actors[0].acled_actor(country_name) if actors else "",
        "assoc_actor_1": "; ".join(a.acled_actor(country_name) for a in actors[1:]),
        "inter1": inter_text(inter1, numeric_inter),
        "actor2": targets[0].acled_actor(country_name) if targets else "",
        "assoc_actor_2": "; ".join(t.acled_actor(country_name) for t in targets[1:]),
        "inter2": inter_text(inter2, numeric_inter),
        "interaction": interaction(inter1, inter2, numeric_inter),
        "civilian_targeting": "Civilian targeting" if targeting else "",
        "iso": str(country.iso_numeric) if country else "",
        "region": country.region if country else "",
        "country": country_name,
        "admin1": place.admin1 or "",
        "admin2": place.admin2 or "",
        "admin3": "",
        "location": place.name or place.text,
        "latitude": "" if place.latitude is None else str(place.latitude),
        "longitude": "" if place.longitude is None else str(place.longitude),
        "geo_precision": "" if place.geo_precision is None else str(place.geo_precision),
        "source": source,
        "source_scale": source_scale,
        "notes": _notes(incident),
        "fatalities": str(incident.counts.killed or 0),
        "tags": "; ".join(tags),
        "timestamp": str(int(incident.updated_at.timestamp())),
    }


def normalise_row(raw: dict[str | None, Any], line: int) -> dict[str, str]:
    """A CSV row as ACLED columns (header case/BOM/space folded, quirks fixed); raises IncidentError."""
    row: dict[str, str] = {}
    for key, value in raw.items():
        if key is None:
            raise IncidentError(f"line {line}: more values than columns")
        name = key.strip().lstrip("\ufeff").lower()
        row[name] = "" if value is None else str(value).strip()
    missing = [c for c in REQUIRED if not row.get(c)]
    if missing:
        raise IncidentError(f"line {line}: missing {', '.join(missing)}")
    row["disorder_type"] = DISORDER_FIXES.get(row.get("disorder_type", ""), row.get("disorder_type", ""))
    return {column: row.get(column, "") for column in COLUMNS}


def _inter_code(value: str) -> int | None:
    if value.strip().isdigit():
        code = int(value)
        return code if code in ACLED_INTER_LABELS else None
    return _LABEL_CODES.get(value.strip().casefold())


def _type_for(taxonomy: Taxonomy, event_type: str, sub_event_type: str) -> tuple[str, str | None]:
    """The taxonomy type (and sub-type) whose ACLED coding is this event's, else `other`."""
    for kind in taxonomy.types.values():
        for sub in kind.subtypes.values():
            if sub.acled and (sub.acled.event_type, sub.acled.sub_event_type) == (event_type, sub_event_type):
                return kind.id, sub.id
    for kind in taxonomy.types.values():
        if kind.acled and not kind.acled_if_detained and \
                (kind.acled.event_type, kind.acled.sub_event_type) == (event_type, sub_event_type) and \
                sub_event_type != "Other":
            return kind.id, None
    return ("other" if "other" in taxonomy.types else next(iter(taxonomy.types))), None


def reference_incident(row: dict[str, str], line: int, taxonomy: Taxonomy, incident_id: str, actor: str,
                       now: datetime, country_code: str | None = None) -> Incident:
    """A reference incident for one normalised ACLED row; raises IncidentError naming the line."""
    try:
        start = parse_date(row["event_date"], "event_date")
        check_date(start, latest_local_date(now), "event_date")
        lat = parse_coordinate(row["latitude"], "latitude")
        lon = parse_coordinate(row["longitude"], "longitude")
        geo = int(row["geo_precision"]) if row["geo_precision"] else None
        fatalities = int(row["fatalities"]) if row["fatalities"] else None
        place = Place(text=row["location"] or row["country"], name=row["location"] or None,
                      country_code=country_code, country=row["country"], admin1=row["admin1"] or None,
                      admin2=row["admin2"] or None, latitude=lat, longitude=lon,
                      geo_precision=geo if geo in (1, 2, 3) else None, source="acled")
        counts = Counts(killed=fatalities)
    except (IncidentError, ValueError) as exc:
        raise IncidentError(f"line {line}: {exc}") from None
    for column in ("inter1", "inter2"):
        if row[column] and row[column] != "0" and _inter_code(row[column]) is None:
            raise IncidentError(f"line {line}: {column} {row[column]!r} is not an ACLED actor type")
    type_id, subtype = _type_for(taxonomy, row["event_type"], row["sub_event_type"])
    title = f"{row['sub_event_type'] or row['event_type']} in {row['location'] or row['country']}"
    tags = [t.strip() for t in row["tags"].replace(",", ";").split(";") if t.strip()][:20]
    return Incident(
        id=incident_id, title=title[:300], type=type_id, subtype=subtype, start=start, place=place,
        description=row["notes"], created_by=actor, created_at=now, updated_by=actor, updated_at=now,
        time_precision=PRECISION_FROM_ACLED.get(row["time_precision"], TimePrecision.DAY), counts=counts,
        tags=[t[:64].replace(",", " ") for t in tags], sensitivity=IncidentSensitivity.INTERNAL, state="unverified",
        reference=True, source=f"acled:{row['event_id_cnty']}", external=row,
    )


def geojson_feature(record: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON Feature (RFC 7946) for an incident record; no geometry when it has no coordinates."""
    place = record.get("place") or {}
    lat, lon = place.get("latitude"), place.get("longitude")
    geometry = None if lat is None or lon is None else {
        "type": "Point", "coordinates": [float(Decimal(lon)), float(Decimal(lat))],
    }
    properties = {k: v for k, v in record.items() if k not in ("external",)}
    return {"type": "Feature", "id": record["id"], "geometry": geometry, "properties": properties}

