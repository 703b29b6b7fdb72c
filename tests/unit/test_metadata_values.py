"""The validation rules every metadata reader shares: coordinates, ISO 6709, dates, raw values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL.TiffImagePlugin import IFDRational

from hujjat.domain.canonical import canonical_bytes
from hujjat.processing.metadata import present_metadata
from hujjat.processing.metadata_values import (
    dms_to_decimal,
    jsonable,
    make_captured_at,
    make_location,
    parse_iso6709,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+32.0929+034.8620+028.516/", {"latitude": "32.0929", "longitude": "34.862", "altitude": "28.516"}),
        ("+40.7128-074.0060/", {"latitude": "40.7128", "longitude": "-74.006"}),
        ("-33.8688+151.2093+000.000/", {"latitude": "-33.8688", "longitude": "151.2093", "altitude": "0"}),
        ("+4042.77-07400.36/", {"latitude": "40.7128333", "longitude": "-74.006"}),  # degrees + minutes
        ("+404246.0-0740021.6/", {"latitude": "40.7127778", "longitude": "-74.006"}),  # + seconds
        (
            "+27.5916+086.5640+8850CRSWGS_84/",
            {"latitude": "27.5916", "longitude": "86.564", "altitude": "8850"},
        ),
    ],
)
def test_iso6709_forms(text: str, expected: dict[str, str]) -> None:
    warnings: list[str] = []
    assert parse_iso6709(text, warnings, "test") == expected
    assert warnings == []


@pytest.mark.parametrize(
    "text", ["", "garbage", "+95.0000+010.0000/", "+10.0+190.0/", "+1+2+3+4/", "32.09 34.86"]
)
def test_bad_iso6709_gives_no_location_and_a_reason(text: str) -> None:
    warnings: list[str] = []
    assert parse_iso6709(text, warnings, "tag location") is None
    assert len(warnings) == 1 and warnings[0].startswith("tag location: location dropped")


@given(
    st.decimals(min_value=-90, max_value=90, places=4, allow_nan=False),
    st.decimals(min_value=-180, max_value=180, places=4, allow_nan=False),
)
def test_iso6709_round_trip(latitude: Decimal, longitude: Decimal) -> None:
    text = f"{latitude:+08.4f}{longitude:+09.4f}/"
    location = parse_iso6709(text, [], "test")
    if latitude == 0 and longitude == 0:
        assert location is None  # the no-fix placeholder
        return
    assert location is not None
    assert Decimal(location["latitude"]) == latitude
    assert Decimal(location["longitude"]) == longitude


@given(st.text(max_size=40))
def test_iso6709_never_raises_nor_yields_impossible_values(text: str) -> None:
    location = parse_iso6709(text, [], "fuzz")
    if location is not None:
        assert -90 <= Decimal(location["latitude"]) <= 90
        assert -180 <= Decimal(location["longitude"]) <= 180


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (4294967295, 10),
        (91, 0),
        (-90.0001, 0),
        (10, 180.5),
        (float("nan"), 1),
        (1, float("inf")),
        (None, 1),
        (0, 0),
    ],
)
def test_impossible_coordinates_are_dropped(latitude: Any, longitude: Any) -> None:
    warnings: list[str] = []
    assert make_location(latitude, longitude, None, warnings, "exif GPS") is None
    assert warnings


def test_coordinates_are_decimal_strings_rounded_to_seven_places() -> None:
    location = make_location(Fraction(434674483333333, 10**13), -11.885126666, 3.98349, [], "x")
    assert location == {"latitude": "43.4674483", "longitude": "-11.8851267", "altitude": "3.983"}


def test_absurd_altitude_is_dropped_but_position_kept() -> None:
    warnings: list[str] = []
    location = make_location(10, 20, 4294967295, warnings, "exif GPS")
    assert location == {"latitude": "10", "longitude": "20"}
    assert "altitude dropped" in warnings[0]


def test_exif_dms_uses_reference_for_sign() -> None:
    parts = (IFDRational(39, 1), IFDRational(3, 1), IFDRational(484, 100))
    assert dms_to_decimal(parts, "S", "N", "S", "latitude", []) == -(
        39 + Decimal(3) / 60 + Decimal("4.84") / 3600
    )
    warnings: list[str] = []
    assert dms_to_decimal(parts, None, "N", "S", "latitude", warnings) is not None
    assert "reference" in warnings[0]


@pytest.mark.parametrize(
    "parts",
    [4294967295.0, (1, 2), (IFDRational(1, 0), 0, 0), (-1, 0, 0), (10, 75, 0), ("a", "b", "c")],
)
def test_exif_dms_garbage_is_dropped(parts: Any) -> None:
    warnings: list[str] = []
    assert dms_to_decimal(parts, "N", "N", "S", "latitude", warnings) is None
    assert warnings


@pytest.mark.parametrize(
    ("text", "kwargs", "iso", "offset"),
    [
        ("2008:10:22 16:28:39", {}, "2008-10-22T16:28:39", None),
        ("2021:04:11 15:47:53", {"offset": "-05:00"}, "2021-04-11T15:47:53-05:00", "-05:00"),
        ("2019-07-24T11:25:40+0300", {}, "2019-07-24T11:25:40+03:00", "+03:00"),
        ("2016-02-06T00:53:22.000000Z", {"assume_utc": True}, "2016-02-06T00:53:22Z", "Z"),
        ("2010:02:03 21:17:48Z", {}, "2010-02-03T21:17:48Z", "Z"),
        ("2017-03-13T23:03:09-07:00", {"offset": "+01:00"}, "2017-03-13T23:03:09-07:00", "-07:00"),
        ("2020:07:27 14:46:48\x00", {"offset": "garbage"}, "2020-07-27T14:46:48", None),
    ],
)
def test_capture_times(text: str, kwargs: dict[str, Any], iso: str, offset: str | None) -> None:
    warnings: list[str] = []
    stamp = make_captured_at(text, warnings, "t", now=NOW, **kwargs)
    assert stamp is not None and (stamp.iso, stamp.offset) == (iso, offset)
    assert warnings == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2099:09:29 10:10:10", "future"),
        ("2026:11:29 12:00:01", "future"),
        ("1970:01:01 00:00:00", "epoch"),
        ("1970-01-01T00:00:00.000000Z", "epoch"),
        ("1904:01:01 00:00:00", "QuickTime"),
        ("1899:12:31 23:59:59", "before 1900"),
        ("0000:00:00 00:00:00", "zero placeholder"),
        ("1999:99:99 99:99:99", "impossible calendar date"),
        ("2021:02:30 10:00:00", "impossible calendar date"),
        ("yesterday", "unreadable"),
    ],
)
def test_impossible_dates_are_dropped_with_reason(text: str, reason: str) -> None:
    warnings: list[str] = []
    assert make_captured_at(text, warnings, "exif DateTimeOriginal", now=NOW) is None
    assert len(warnings) == 1 and reason in warnings[0]


def test_a_date_within_a_day_ahead_is_kept() -> None:
    ahead = (NOW + timedelta(hours=20)).strftime("%Y:%m:%d %H:%M:%S")
    assert make_captured_at(ahead, [], "t", now=NOW, assume_utc=True) is not None


@given(st.text(max_size=40), st.one_of(st.none(), st.text(max_size=8)))
def test_date_parsing_never_raises(text: str, offset: str | None) -> None:
    stamp = make_captured_at(text, [], "fuzz", offset=offset, now=NOW)
    if stamp is not None:
        parsed = datetime.fromisoformat(stamp.iso)
        assert 1900 <= parsed.year <= NOW.year + 1


raw_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.binary(max_size=600),
        st.fractions(), st.decimals(),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), children, max_size=4),
    ),
    max_leaves=20,
)  # fmt: skip


@given(raw_values)
def test_raw_values_become_canonical_json(value: Any) -> None:
    canonical_bytes(jsonable(value))  # raises on floats, non-string keys, unknown types


def test_raw_value_conversions() -> None:
    assert jsonable(IFDRational(2814, 1000)) == "2814/1000"  # as stored, unreduced
    assert jsonable(72.0) == "72.0"
    assert jsonable(b"\x00\x01") == "base64:AAE="
    assert jsonable(b"x" * 5000) == "(binary data 5000 bytes)"
    assert jsonable("GoPro\x00\x00") == "GoPro"
    assert jsonable({1: (1, 2)}) == {"1": [1, 2]}


def test_present_metadata_makes_numbers_for_scripts() -> None:
    data = {"location": {"latitude": "43.4674483", "longitude": "-11.8851267", "altitude": "bad"}, "x": 1}
    presented = present_metadata(data)
    assert presented["location"] == {"latitude": 43.4674483, "longitude": -11.8851267, "altitude": None}
    assert data["location"]["latitude"] == "43.4674483", "the stored record is not modified"
    assert present_metadata({"location": None}) == {"location": None}
    assert present_metadata(None) == {}
    assert isinstance(
        present_metadata({"location": {"latitude": "1", "longitude": "2"}})["location"]["latitude"], float
    )
    assert present_metadata({"location": {"latitude": "NaN", "longitude": "2"}})["location"] is None
