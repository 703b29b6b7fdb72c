"""Incident values: dates, coordinates, counts (unknown is not 0), tags, and the record round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hujjat.domain.incidents import (
    Counts,
    Incident,
    IncidentError,
    Place,
    apply_changes,
    clean_tags,
    diff_records,
    parse_coordinate,
    parse_count,
    parse_date,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)
TODAY = NOW.date()


def _incident() -> Incident:
    return Incident(id="01J0000000000000000000000A", title="t", type="raid", start=date(2024, 1, 1),
                    place=Place(text="x", latitude=Decimal("1.5"), longitude=Decimal("-2")), created_by="a",
                    created_at=NOW, updated_by="a", updated_at=NOW, counts=Counts(detained=0))


@pytest.mark.parametrize(
    ("value", "message"),
    [(date(2025, 1, 2), "in the future"), (date(1899, 12, 31), "before 1900")],
)
def test_dates_outside_1900_to_today_are_refused(value: date, message: str) -> None:
    with pytest.raises(IncidentError, match=message):
        replace(_incident(), start=value).validate(TODAY)
    with pytest.raises(IncidentError, match="before the start"):
        replace(_incident(), end=date(2023, 1, 1)).validate(TODAY)


def test_parsing() -> None:
    assert parse_date("2024-03-05") == parse_date("05-03-2024") == date(2024, 3, 5)
    with pytest.raises(IncidentError, match="YYYY-MM-DD"):
        parse_date("2024-02-30")
    assert parse_count("unknown", "x") is None and parse_count("0", "x") == 0
    with pytest.raises(IncidentError, match="whole number"):
        parse_count("-1", "detained")
    with pytest.raises(IncidentError, match="between -90 and 90"):
        parse_coordinate("90.5", "latitude")
    with pytest.raises(IncidentError, match="decimal number"):
        parse_coordinate("NaNx", "longitude")
    with pytest.raises(IncidentError, match="between -180 and 180"):
        parse_coordinate("inf", "longitude")
    with pytest.raises(IncidentError, match="both latitude and longitude"):
        Place(text="x", latitude=Decimal(1))
    with pytest.raises(IncidentError, match="no commas"):
        clean_tags(["a,b"])
    with pytest.raises(IncidentError, match="whole number"):
        Counts(killed=-3)


def test_unknown_is_not_zero_and_survives_the_round_trip() -> None:
    incident = _incident()
    record = incident.to_record()
    assert record["counts"] == {"detained": 0, "summoned": None, "injured": None, "killed": None, "deported": None}
    assert Incident.from_record(record) == incident


def test_edit_makes_a_new_version_and_a_diff() -> None:
    before = _incident()
    after = apply_changes(before, {"title": "new", "counts": Counts(detained=None)}, "b", NOW)
    assert after.version == 2 and after.updated_by == "b" and before.title == "t"
    diff = diff_records(before.to_record(), after.to_record())
    assert diff == {"title": {"from": "t", "to": "new"},
                    "counts": {"from": before.counts.to_record(), "to": after.counts.to_record()}}
    with pytest.raises(IncidentError, match="cannot be edited"):
        apply_changes(before, {"state": "verified"}, "b", NOW)


@settings(deadline=None)
@given(st.decimals(min_value=-90, max_value=90, allow_nan=False, places=8))
def test_latitudes_in_range_are_kept_to_six_places(value: Decimal) -> None:
    parsed = parse_coordinate(value, "latitude")
    assert abs(parsed - value) <= Decimal("0.0000005")
    assert Place.from_record(Place(text="x", latitude=parsed, longitude=parsed / 2).to_record()).latitude == parsed


@pytest.mark.parametrize(("raw", "shown"), [("60", "60"), ("60.100000", "60.1"), ("-0.0000001", "0"), ("1E+1", "10")])
def test_coordinates_are_written_in_plain_notation(raw: str, shown: str) -> None:
    assert str(parse_coordinate(raw, "latitude")) == shown


def test_today_east_of_utc_is_not_the_future() -> None:
    from hujjat.domain.incidents import latest_local_date

    late_evening_utc = datetime(2025, 1, 1, 20, 0, tzinfo=UTC)  # already 2 January in Tashkent
    assert latest_local_date(late_evening_utc) == date(2025, 1, 2)
    replace(_incident(), start=date(2025, 1, 2)).validate(latest_local_date(late_evening_utc))
    with pytest.raises(IncidentError, match="in the future"):
        replace(_incident(), start=date(2025, 1, 3)).validate(latest_local_date(late_evening_utc))
