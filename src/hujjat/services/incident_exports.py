"""Incident datasets in and out: ACLED CSV, GeoJSON and JSON exports, and ACLED reference imports.

Exports are written to a temporary file beside the target and renamed, so a failed export never
leaves half a file under the real name. Each export is a custody entry naming the filter and the
SHA-256 of what was written. Imports check every row before writing any: one bad row refuses the
file (naming the line) unless the caller asks to skip bad rows, and skipped lines are reported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hujjat.domain.acled import (
    COLUMNS,
    CONTINENT_REGIONS,
    CountryFacts,
    geojson_feature,
    incident_row,
    normalise_row,
    reference_incident,
)
from hujjat.domain.errors import HujjatError, UsageError
from hujjat.domain.ids import new_id
from hujjat.domain.incidents import Incident, IncidentError, IncidentVersion, diff_records
from hujjat.domain.vocabulary import Taxonomy
from hujjat.ports.incidents import IncidentFilter
from hujjat.ports.places import PlaceResolver
from hujjat.services.context import ArchivePorts
from hujjat.services.search import refresh_records

FORMATS = ("acled", "geojson", "json")
MAX_IMPORT_ERRORS = 20


def _country_facts(places: PlaceResolver | None, taxonomy: Taxonomy, code: str | None) -> CountryFacts | None:
    if places is None or not code:
        return None
    country = places.country(code)
    if country is None:
        return None
    region = taxonomy.acled_regions.get(country.code) or CONTINENT_REGIONS.get(country.continent, "")
    return CountryFacts(country.iso3, country.iso_numeric, country.name, region)


def _incidents(ports: ArchivePorts, query: IncidentFilter) -> list[Incident]:
    with ports.uow(read_only=True) as tx:
        return list(tx.incidents.iter_incidents(query))


def _write_atomically(target: Path, chunks: Iterator[str]) -> tuple[str, int]:
    """Write text to `target` via a temporary file; return (sha256, size in bytes)."""
    target = target.resolve()
    if target.is_dir():
        raise UsageError(f"{target} is a folder: give a file name")
    if not target.parent.is_dir():
        raise UsageError(f"folder {target.parent} does not exist")
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    size = 0
    try:
        with temp.open("w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                data = chunk.encode("utf-8")
                digest.update(data)
                size += len(data)
                handle.write(chunk)
        temp.replace(target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise HujjatError(f"cannot write {target}: {exc.strerror or exc}") from None
    return digest.hexdigest(), size


def _csv_chunks(rows: list[dict[str, str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def export_incidents(ports: ArchivePorts, taxonomy: Taxonomy, places: PlaceResolver | None, target: Path,
                     query: IncidentFilter, fmt: str = "acled", numeric_inter: bool = False,
                     source: str = "Hujjat") -> dict[str, Any]:
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    incidents = _incidents(ports, query)
    if fmt == "acled":
        rows = [
            incident_row(i, taxonomy, _country_facts(places, taxonomy, i.place.country_code),
                         numeric_inter=numeric_inter, source=source)
            for i in incidents
        ]
        chunks: Iterator[str] = _csv_chunks(rows)
    else:
        with ports.uow(read_only=True) as tx:
            links = tx.incidents.links_by_incident([i.id for i in incidents])
        records = [{**i.to_record(), "links": [lk.to_record() for lk in links.get(i.id, [])]} for i in incidents]
        if fmt == "geojson":
            document: Any = {"type": "FeatureCollection", "features": [geojson_feature(r) for r in records]}
        else:
            document = {"incidents": records, "total": len(records)}
        chunks = iter([json.dumps(document, ensure_ascii=False, indent=2) + "\n"])
    digest, size = _write_atomically(target, chunks)
    summary = {
        "format": fmt, "path": str(target.resolve()), "incidents": len(incidents), "sha256": digest, "size": size,
        "filter": {
            "states": list(query.states), "sensitivities": list(query.sensitivities), "from": query.date_from,
            "to": query.date_to, "include_reference": query.include_reference,
        },
    }
    with ports.uow() as tx:
        tx.custody.append(ports.actor, "incidents.exported", None,
                          {**summary, "ids": [i.id for i in incidents]})
    return summary


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "skipped": len(self.skipped), "problems": self.skipped}


def _read_rows(path: Path) -> list[tuple[int, dict[str | None, Any]]]:
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise IncidentError(f"{path}: not UTF-8 text (ACLED exports are UTF-8 CSV)") from None
    except OSError as exc:
        raise HujjatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)  # the header has no quoted commas; rows may
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lstrip("\ufeff").lower() for h in (reader.fieldnames or [])]
    if "event_id_cnty" not in header or "event_date" not in header:
        raise IncidentError(f"{path}: not an ACLED file (no event_id_cnty / event_date columns)")
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise IncidentError(f"{path}: malformed CSV at line {reader.line_num}: {exc}") from None


def import_acled(ports: ArchivePorts, taxonomy: Taxonomy, places: PlaceResolver | None, path: Path,
                 skip_invalid: bool = False) -> dict[str, Any]:
    """Load ACLED rows as reference incidents (marked `reference`, source `acled:<event_id_cnty>`)."""
    now = ports.clock.now()
    summary = ImportSummary()
    parsed: list[Incident] = []
    touched: list[str] = []
    seen: set[str] = set()
    for line, raw in _read_rows(path):
        try:
            row = normalise_row(raw, line)
            if row["event_id_cnty"] in seen:
                raise IncidentError(f"line {line}: event {row['event_id_cnty']} appears twice")
            seen.add(row["event_id_cnty"])
            incident = reference_incident(row, line, taxonomy, new_id(), ports.actor, now)
            place = incident.place
            if places is not None and place.latitude is not None and place.longitude is not None:
                code = places.at(place.latitude, place.longitude, place.text).country_code
                incident = replace(incident, place=replace(place, country_code=code))
            parsed.append(incident)
        except IncidentError as exc:
            summary.skipped.append(str(exc))
    if summary.skipped and not skip_invalid:
        shown = "; ".join(summary.skipped[:3]) + (" …" if len(summary.skipped) > 3 else "")
        raise IncidentError(f"{path.name}: {len(summary.skipped)} bad row(s), nothing imported: {shown} "
                            "(use --skip-invalid to import the good rows)")
    with ports.uow() as tx:
        for incident in parsed:
            existing = tx.incidents.by_source(incident.source or "")
            if existing is None:
                record = incident.to_record()
                tx.incidents.add(incident)
                tx.incidents.add_version(IncidentVersion(incident.id, 1, "imported", ports.actor, now,
                                                         {"record": record}, record))
                tx.custody.append(ports.actor, "incident.imported", incident.id,
                                  {"source": incident.source, "record": record})
                summary.added += 1
                touched.append(incident.id)
                continue
            if existing.external == incident.external:
                summary.unchanged += 1
                continue
            updated = replace(incident, id=existing.id, created_by=existing.created_by,
                              created_at=existing.created_at, version=existing.version + 1)
            diff = diff_records(existing.to_record(), updated.to_record())
            tx.incidents.save(updated)
            tx.incidents.add_version(IncidentVersion(updated.id, updated.version, "reimported", ports.actor, now,
                                                     diff, updated.to_record()))
            tx.custody.append(ports.actor, "incident.reimported", updated.id,
                              {"source": updated.source, "version": updated.version, "changes": diff})
            summary.updated += 1
            touched.append(updated.id)
        tx.custody.append(ports.actor, "incidents.imported", None,
                          {"format": "acled", "file": path.name, **summary.as_dict()})
    refresh_records(ports, "incident", touched)
    return summary.as_dict()
