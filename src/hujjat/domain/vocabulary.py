"""The incident taxonomy: event types and sub-types, actor and target groups, ACLED mappings.

The taxonomy is data (shipped as YAML, extendable per archive); this module turns an already
parsed document into checked, immutable objects and merges an organisation's extension over the
shipped defaults. Anything malformed raises TaxonomyError naming the exact key, so a bad file is
refused as a whole and nothing is half-loaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hujjat.domain.errors import HujjatError

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{0,47}$")
ACLED_DISORDER_TYPES = (
    "Political violence",
    "Demonstrations",
    "Strategic developments",
    "Political violence; Demonstrations",
)
ACLED_INTER_LABELS = {
    1: "State forces",
    2: "Rebel group",
    3: "Political militia",
    4: "Identity militia",
    5: "Rioters",
    6: "Protesters",
    7: "Civilians",
    8: "External/Other forces",
}


TOP_KEYS = frozenset({"version", "types", "actors", "targets", "acled_regions"})
TYPE_KEYS = frozenset({"label", "acled", "acled_if_detained", "subtypes", "disabled", "description"})
SUBTYPE_KEYS = frozenset({"label", "acled", "description"})
GROUP_KEYS = frozenset({"label", "inter", "acled_name", "description"})


class TaxonomyError(HujjatError):
    """The taxonomy file is malformed, or a value is not in the taxonomy."""


@dataclass(frozen=True)
class AcledCoding:
    disorder_type: str
    event_type: str
    sub_event_type: str
    civilian_targeting: bool = False


@dataclass(frozen=True)
class SubType:
    id: str
    label: str
    acled: AcledCoding | None = None


@dataclass(frozen=True)
class EventType:
    id: str
    label: str
    acled: AcledCoding | None
    acled_if_detained: AcledCoding | None = None
    subtypes: dict[str, SubType] = field(default_factory=dict)
    disabled: bool = False

    def coding(self, subtype: str | None, detained: int | None) -> AcledCoding | None:
        """The ACLED coding for an incident of this type (sub-type first, then the detention rule)."""
        sub = self.subtypes.get(subtype) if subtype else None
        if sub is not None and sub.acled is not None:
            return sub.acled
        if self.acled_if_detained is not None and detained:
            return self.acled_if_detained
        return self.acled


@dataclass(frozen=True)
class Group:
    id: str
    label: str
    inter: int
    acled_name: str

    def acled_actor(self, country: str) -> str:
        return self.acled_name.replace("{country}", country or "Unknown")


@dataclass(frozen=True)
class Taxonomy:
    types: dict[str, EventType]
    actors: dict[str, Group]
    targets: dict[str, Group]
    acled_regions: dict[str, str]
    sources: tuple[str, ...] = ()

    def event_type(self, type_id: str) -> EventType:
        found = self.types.get(type_id)
        if found is None:
            raise TaxonomyError(f"unknown incident type {type_id!r}; known: {', '.join(sorted(self.types))}")
        return found

    def check(
        self,
        type_id: str,
        subtype: str | None,
        actors: list[str],
        targets: list[str],
        allow_disabled: bool = False,
    ) -> None:
        """Raise TaxonomyError unless every value is defined (disabled types only for old records)."""
        kind = self.event_type(type_id)
        if kind.disabled and not allow_disabled:
            raise TaxonomyError(f"incident type {type_id!r} is disabled in this archive's taxonomy")
        if subtype is not None and subtype not in kind.subtypes:
            known = ", ".join(sorted(kind.subtypes)) or "none"
            raise TaxonomyError(f"unknown sub-type {subtype!r} for type {type_id!r}; known: {known}")
        for name, value, table in (("actor", actors, self.actors), ("target", targets, self.targets)):
            for group in value:
                if group not in table:
                    raise TaxonomyError(f"unknown {name} group {group!r}; known: {', '.join(sorted(table))}")


def merge_documents(base: Mapping[str, Any], extension: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `extension` over `base`: mappings merge key by key, anything else replaces."""
    merged: dict[str, Any] = dict(base)
    for key, value in extension.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_documents(merged[key], value)
        else:
            merged[key] = value
    return merged


# Hujjat never files people under these categories; a taxonomy may not add them as fields.
PROTECTED = frozenset({"religion", "ethnicity", "ethnic_group", "race", "origin", "nationality", "citizenship"})


def _mapping(value: Any, where: str, allowed: frozenset[str] | None = None) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TaxonomyError(f"{where}: expected a mapping, got {type(value).__name__}")
    if allowed is not None:
        protected = sorted(str(k) for k in value if str(k).lower() in PROTECTED)
        if protected:
            raise TaxonomyError(f"{where}: Hujjat records no {', '.join(protected)} of people as a category")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise TaxonomyError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(f"{where}: expected a non-empty text")
    return value.strip()


def _slug(value: Any, where: str) -> str:
    if not isinstance(value, str) or not SLUG_RE.match(value):
        raise TaxonomyError(f"{where}: {value!r} is not a valid id (lowercase letters, digits and '-')")
    return value


def _coding(value: Any, where: str) -> AcledCoding | None:
    if value is None:
        return None
    raw = _mapping(value, where)
    unknown = set(raw) - {"disorder_type", "event_type", "sub_event_type", "civilian_targeting"}
    if unknown:
        raise TaxonomyError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    disorder = _text(raw.get("disorder_type"), f"{where}.disorder_type")
    if disorder not in ACLED_DISORDER_TYPES:
        raise TaxonomyError(f"{where}.disorder_type: {disorder!r} is not an ACLED disorder type")
    targeting = raw.get("civilian_targeting", False)
    if not isinstance(targeting, bool):
        raise TaxonomyError(f"{where}.civilian_targeting: expected true or false")
    return AcledCoding(
        disorder,
        _text(raw.get("event_type"), f"{where}.event_type"),
        _text(raw.get("sub_event_type"), f"{where}.sub_event_type"),
        targeting,
    )


def _groups(value: Any, where: str) -> dict[str, Group]:
    groups = {}
    for key, raw in _mapping(value, where).items():
        spot = f"{where}.{key}"
        body = _mapping(raw, spot, GROUP_KEYS)
        inter = body.get("inter", 8)
        if not isinstance(inter, int) or isinstance(inter, bool) or inter not in ACLED_INTER_LABELS:
            raise TaxonomyError(f"{spot}.inter: expected an ACLED actor code 1-8")
        label = _text(body.get("label"), f"{spot}.label")
        name = body.get("acled_name", label)
        groups[_slug(key, spot)] = Group(key, label, inter, _text(name, f"{spot}.acled_name"))
    return groups


def _event_type(key: Any, raw: Any, where: str) -> EventType:
    body = _mapping(raw, where, TYPE_KEYS)
    subtypes = {}
    for sub_key, sub_raw in _mapping(body.get("subtypes") or {}, f"{where}.subtypes").items():
        spot = f"{where}.subtypes.{sub_key}"
        sub = _mapping(sub_raw, spot, SUBTYPE_KEYS)
        subtypes[_slug(sub_key, spot)] = SubType(
            sub_key, _text(sub.get("label"), f"{spot}.label"), _coding(sub.get("acled"), f"{spot}.acled")
        )
    disabled = body.get("disabled", False)
    if not isinstance(disabled, bool):
        raise TaxonomyError(f"{where}.disabled: expected true or false")
    return EventType(
        id=_slug(key, where),
        label=_text(body.get("label"), f"{where}.label"),
        acled=_coding(body.get("acled"), f"{where}.acled"),
        acled_if_detained=_coding(body.get("acled_if_detained"), f"{where}.acled_if_detained"),
        subtypes=subtypes,
        disabled=disabled,
    )


def parse_taxonomy(document: Any, sources: tuple[str, ...] = ()) -> Taxonomy:
    """Check a parsed (merged) taxonomy document and build the Taxonomy."""
    doc = _mapping(document, "taxonomy", TOP_KEYS)
    version = doc.get("version", 1)
    if version != 1:
        raise TaxonomyError(f"taxonomy.version: unsupported version {version!r} (expected 1)")
    types_raw = _mapping(doc.get("types"), "types")
    if not types_raw:
        raise TaxonomyError("types: the taxonomy defines no incident types")
    types = {str(k): _event_type(k, v, f"types.{k}") for k, v in types_raw.items()}
    regions = {}
    for code, region in _mapping(doc.get("acled_regions") or {}, "acled_regions").items():
        if not isinstance(code, str) or not re.match(r"^[A-Z]{2}$", code):
            raise TaxonomyError(f"acled_regions: {code!r} is not an ISO 3166-1 alpha-2 code")
        regions[code] = _text(region, f"acled_regions.{code}")
    return Taxonomy(
        types=types,
        actors=_groups(doc.get("actors") or {}, "actors"),
        targets=_groups(doc.get("targets") or {}, "targets"),
        acled_regions=regions,
        sources=sources,
    )


def describe(taxonomy: Taxonomy) -> dict[str, Any]:
    """A JSON-able view for `hujjat taxonomy show --json`."""

    def coding(c: AcledCoding | None) -> dict[str, Any] | None:
        return (
            None
            if c is None
            else {
                "disorder_type": c.disorder_type,
                "event_type": c.event_type,
                "sub_event_type": c.sub_event_type,
                "civilian_targeting": c.civilian_targeting,
            }
        )

    return {
        "sources": list(taxonomy.sources),
        "types": [
            {
                "id": t.id,
                "label": t.label,
                "disabled": t.disabled,
                "acled": coding(t.acled),
                "acled_if_detained": coding(t.acled_if_detained),
                "subtypes": [
                    {"id": s.id, "label": s.label, "acled": coding(s.acled)} for s in t.subtypes.values()
                ],
            }
            for t in taxonomy.types.values()
        ],
        "actors": [{"id": g.id, "label": g.label, "inter": g.inter} for g in taxonomy.actors.values()],
        "targets": [{"id": g.id, "label": g.label, "inter": g.inter} for g in taxonomy.targets.values()],
        "acled_regions": dict(taxonomy.acled_regions),
    }
