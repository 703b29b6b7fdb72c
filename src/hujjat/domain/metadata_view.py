"""Metadata as scripts and people see it: stored coordinates are decimal strings (custody hashing
allows no floats); shown, they are numbers. One copy of this rule for the CLI, API and processing."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any


def present_metadata(data: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of a record's `data` with location latitude, longitude and altitude as numbers;
    unparseable values become null, and a location without both coordinates becomes null."""
    presented = copy.deepcopy(data) if isinstance(data, dict) else {}
    location = presented.get("location")
    if isinstance(location, dict):
        for key in ("latitude", "longitude", "altitude"):
            if key in location:
                location[key] = _number(location[key])
        if location.get("latitude") is None or location.get("longitude") is None:
            presented["location"] = None
    return presented


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return float(number) if number.is_finite() else None
