"""Port for turning free-text places (any script) or coordinates into a coded Place."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from hujjat.domain.errors import HujjatError
from hujjat.domain.incidents import Place


class PlaceNotFound(HujjatError):
    """The gazetteer knows no place matching the text."""


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    name: str
    iso3: str
    iso_numeric: int
    continent: str  # GeoNames continent code: EU, AS, ...


class PlaceResolver(Protocol):
    description: str

    def resolve(self, text: str, country: str | None = None) -> Place:
        """The best match for `text` ("Москва, Капотня", "near Toshkent", "Sverdlovsk Oblast"),
        optionally limited to one country; raises PlaceNotFound."""
        ...

    def at(self, latitude: Decimal, longitude: Decimal, text: str, geo_precision: int = 1) -> Place:
        """A manually placed location: the coordinates as given, country and region from the nearest
        known place."""
        ...

    def country(self, code: str) -> Country | None: ...
