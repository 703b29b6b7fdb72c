"""`export public`: the publishable dataset, built so that it can be handed to anyone.

- Only incidents marked `public` (and, with `--state`, in that workflow state); reference
  (ACLED-imported) incidents are never republished.
- Coordinates are rounded to what the incident's geo precision allows: precision 1 (the exact
  place) to 0.01 degree (about 1 km), 2 to 0.1 degree (about 11 km), 3 or unknown to 1 degree. The
  free-text place is replaced by the resolved place name; times of day are dropped.
- People recorded by the archive (who created, edited or linked records) become per-export
  pseudonyms: HMAC-SHA256 under a random key made for this export and then forgotten, so the same
  person has the same pseudonym throughout one export and cannot be linked across exports.
- Linked evidence is published only as its redacted derivative (`hujjat redact`). An item with no
  derivative stops the export unless named with `--allow-unredacted` (logged); items whose
  original was shredded are withheld.
- OUT_DIR receives incidents.csv (ACLED), incidents.geojson, media/, and manifest.json with the
  SHA-256 and size of every file; the whole publication is one custody entry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import mimetypes
import os
import secrets
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from hujjat.domain.acled import COLUMNS, geojson_feature, incident_row
from hujjat.domain.errors import UsageError
from hujjat.domain.incidents import Incident, IncidentLink, Place
from hujjat.domain.vocabulary import Taxonomy
from hujjat.ports.incidents import IncidentFilter
from hujjat.ports.places import PlaceResolver
from hujjat.ports.protection import EncryptingStore
from hujjat.services.context import ArchivePorts
from hujjat.services.incident_exports import _country_facts, _csv_chunks, _write_atomically

STEP_BY_PRECISION = {1: Decimal("0.01"), 2: Decimal("0.1"), 3: Decimal("1")}


class Pseudonyms:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def __call__(self, name: str) -> str:
        return "person-" + hmac.new(self._key, name.encode("utf-8"), hashlib.sha256).hexdigest()[:10]


def coarsen(place: Place) -> Place:
    step = STEP_BY_PRECISION.get(place.geo_precision or 3, Decimal("1"))
    lat = None if place.latitude is None else place.latitude.quantize(step, ROUND_HALF_EVEN)
    lon = None if place.longitude is None else place.longitude.quantize(step, ROUND_HALF_EVEN)
    shown = place.name or place.admin2 or place.admin1 or place.country or ""
    return replace(place, text=shown, latitude=lat, longitude=lon, geonameid=None)


def public_incident(incident: Incident, names: Pseudonyms) -> Incident:
    return replace(
        incident,
        place=coarsen(incident.place),
        time=None,
        created_by=names(incident.created_by),
        updated_by=names(incident.updated_by),
        external={},
    )


def _media_name(sha256: str, media_type: str) -> str:
    return sha256 + (mimetypes.guess_extension(media_type) or ".bin")


def export_public(
    ports: ArchivePorts,
    taxonomy: Taxonomy,
    places: PlaceResolver | None,
    out_dir: Path,
    states: tuple[str, ...] = (),
    allow_unredacted: tuple[str, ...] = (),
) -> dict[str, Any]:
    out_dir = out_dir.resolve()
    if out_dir.exists() and any(out_dir.iterdir()):
        raise UsageError(f"{out_dir} is not empty: give a new folder")
    names = Pseudonyms()
    query = IncidentFilter(states=states, sensitivities=("public",))
    with ports.uow(read_only=True) as tx:
        incidents = [i for i in tx.incidents.iter_incidents(query) if not i.reference]
        links = tx.incidents.links_by_incident([i.id for i in incidents])
        allowed = {tx.items.resolve(ref).id for ref in allow_unredacted}
        shredded = ports.store.shredded() if isinstance(ports.store, EncryptingStore) else set()
        media: dict[str, tuple[str, str, str]] = {}  # linked item id -> (published item, sha256, type)
        missing: list[str] = []
        withheld: list[str] = []
        for link in (lk for group in links.values() for lk in group if lk.target_kind == "item"):
            item = tx.items.get(link.target_id)
            if item is None or link.target_id in media:
                continue
            if item.sha256 in shredded:
                withheld.append(item.id)
                continue
            is_derivative = tx.protection.original_of(item.id) is not None
            derived = tx.protection.derivatives_of(item.id)
            if is_derivative or item.id in allowed:
                media[item.id] = (item.id, item.sha256, item.media_type)
            elif derived:
                chosen = tx.items.get(derived[-1].derivative_id)
                if chosen is not None:
                    media[item.id] = (chosen.id, chosen.sha256, chosen.media_type)
            else:
                missing.append(item.id)
    if missing:
        raise UsageError(
            f"{len(missing)} linked item(s) have no redacted derivative: {', '.join(sorted(missing)[:5])} "
            "(run `hujjat redact`, or name them with --allow-unredacted)"
        )
    (out_dir / "media").mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    for _published_id, sha256, media_type in sorted(set(media.values())):
        target = out_dir / "media" / _media_name(sha256, media_type)
        digest = hashlib.sha256()
        size = 0
        with ports.store.open(sha256) as src, target.open("wb") as dst:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
        files.append({"path": f"media/{target.name}", "sha256": digest.hexdigest(), "size": size})
    public = [public_incident(i, names) for i in incidents]
    rows = [incident_row(i, taxonomy, _country_facts(places, taxonomy, i.place.country_code)) for i in public]
    sha, size = _write_atomically(out_dir / "incidents.csv", _csv_chunks(rows))
    files.append({"path": "incidents.csv", "sha256": sha, "size": size})
    features = []
    for incident in public:
        record = incident.to_record()
        record["links"] = [_public_link(lk, media, names) for lk in links.get(incident.id, [])
                           if lk.target_kind == "item" and lk.target_id in media]
        features.append(geojson_feature(record))
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=2) + "\n"
    sha, size = _write_atomically(out_dir / "incidents.geojson", iter([text]))
    files.append({"path": "incidents.geojson", "sha256": sha, "size": size})
    summary: dict[str, Any] = {
        "incidents": len(public),
        "media": len({m[1] for m in media.values()}),
        "unredacted": sorted(i for i in allowed if i in media),
        "withheld_shredded": sorted(withheld),
        "states": list(states),
        "columns": len(COLUMNS),
        "files": sorted(files, key=lambda f: str(f["path"])),
    }
    manifest = json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    (out_dir / "manifest.json").write_text(manifest, encoding="utf-8")
    with ports.uow() as tx:
        tx.custody.append(
            ports.actor,
            "export.public",
            None,
            {**{k: v for k, v in summary.items() if k != "files"},
             "manifest_sha256": hashlib.sha256(manifest.encode()).hexdigest(),
             "incident_ids": [i.id for i in incidents], "path": os.fspath(out_dir)},
        )
    return summary


def _public_link(link: IncidentLink, media: dict[str, tuple[str, str, str]], names: Pseudonyms) -> dict[str, Any]:
    _published, sha256, media_type = media[link.target_id]
    return {"role": str(link.role), "media": f"media/{_media_name(sha256, media_type)}", "sha256": sha256,
            "added_by": names(link.added_by)}
