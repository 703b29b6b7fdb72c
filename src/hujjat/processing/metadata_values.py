"""Validation and normalization of the values metadata readers find: coordinates, dates, raw tags.

Every reader (Pillow, PyAV, exiftool) hands its findings through these functions, so one set of
rules decides what is plausible. Stored metadata is hashed as canonical JSON, which forbids
floats, so fractional numbers become decimal strings here (coordinates rounded to 7 places,
about 1 cm). Anything impossible (|latitude| > 90, NaN, 4294967295 placeholders, dates before
1900 or more than a day in the future, epoch-zero and QuickTime-1904-zero dates) is dropped and
the reason is appended to a warnings list rather than raised: a failure is data.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

COORDINATE_PLACES = Decimal("0.0000001")
MAX_ALTITUDE_M = Decimal(100_000)  # above any aircraft; below the deepest mine, -12 km
MIN_ALTITUDE_M = Decimal(-12_000)
MIN_YEAR = 1900
FUTURE_TOLERANCE = timedelta(days=1)
MAX_RAW_BYTES = 512  # binary tag values up to this size are kept (base64), larger ones summarized

_PLACEHOLDER_DATES = {
    datetime(1970, 1, 1): "the Unix epoch (a zero timestamp)",
    datetime(1904, 1, 1): "the QuickTime epoch (a zero timestamp)",
}


@dataclass
class Findings:
    """What a reader found, in the normalized shape, plus why anything was dropped."""

    location: dict[str, str] | None = None
    captured_at: str | None = None
    captured_at_offset: str | None = None  # "+03:00", "Z", or None for local time of unknown offset
    width: int | None = None
    height: int | None = None
    duration: str | None = None
    camera: dict[str, str] | None = None
    container: str | None = None
    streams: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def set_location(self, location: dict[str, str] | None, source: str) -> None:
        if location is not None and self.location is None:
            self.location = location
            self.sources["location"] = source

    def set_captured_at(self, stamp: CapturedAt | None, source: str) -> None:
        if stamp is not None and self.captured_at is None:
            self.captured_at = stamp.iso
            self.captured_at_offset = stamp.offset
            self.sources["captured_at"] = source


@dataclass(frozen=True)
class CapturedAt:
    iso: str
    offset: str | None


def to_decimal(value: Any) -> Decimal | None:
    """A finite Decimal from an int, float, Fraction, IFDRational, Decimal or numeric string."""
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, Decimal):
            result = value
        elif isinstance(value, int):
            result = Decimal(value)
        elif isinstance(value, float):
            result = Decimal(repr(value))
        elif isinstance(value, str):
            result = Decimal(value.strip())
        elif hasattr(value, "numerator") and hasattr(value, "denominator"):
            numerator, denominator = int(value.numerator), int(value.denominator)
            if denominator == 0:
                return None
            result = Decimal(numerator) / Decimal(denominator)
        else:
            return None
    except (InvalidOperation, ValueError, TypeError, ArithmeticError):
        return None
    return result if result.is_finite() else None


def decimal_text(value: Decimal, places: Decimal | None = None) -> str:
    """A plain decimal string ("43.4674483", "-3.983", "0"), never exponent notation."""
    if places is not None:
        value = value.quantize(places, rounding=ROUND_HALF_EVEN)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def fraction_text(value: Fraction | Decimal | int, places: int = 6) -> str:
    """Seconds or rates as decimal strings with at most `places` decimals."""
    decimal = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else Decimal(value)
    )
    return decimal_text(decimal, Decimal(1).scaleb(-places))


def make_location(
    latitude: Any, longitude: Any, altitude: Any, warnings: list[str], source: str
) -> dict[str, str] | None:
    """A validated {latitude, longitude, altitude?} of decimal strings, or None with a warning."""
    lat, lon = to_decimal(latitude), to_decimal(longitude)
    if lat is None or lon is None:
        warnings.append(f"{source}: location dropped: latitude/longitude missing or not numbers")
        return None
    if not (-90 <= lat <= 90) or not (-180 <= lon <= 180):
        warnings.append(f"{source}: location dropped: impossible coordinates {lat}, {lon}")
        return None
    if lat == 0 and lon == 0:
        warnings.append(f"{source}: location dropped: 0,0 is the usual placeholder of a receiver with no fix")
        return None
    result = {
        "latitude": decimal_text(lat, COORDINATE_PLACES),
        "longitude": decimal_text(lon, COORDINATE_PLACES),
    }
    if altitude is not None:
        alt = to_decimal(altitude)
        if alt is None or not (MIN_ALTITUDE_M <= alt <= MAX_ALTITUDE_M):
            warnings.append(f"{source}: altitude dropped: impossible value {altitude!r}")
        else:
            result["altitude"] = decimal_text(alt, Decimal("0.001"))
    return result


def dms_to_decimal(
    parts: Any, ref: Any, positive: str, negative: str, what: str, warnings: list[str]
) -> Decimal | None:
    """EXIF degrees/minutes/seconds (three rationals) and a N/S or E/W reference to signed degrees."""
    if not isinstance(parts, (tuple, list)) or len(parts) != 3:
        warnings.append(f"exif GPS: {what} dropped: expected degrees, minutes, seconds, got {parts!r}")
        return None
    values = [to_decimal(part) for part in parts]
    if any(value is None or value < 0 for value in values):
        warnings.append(f"exif GPS: {what} dropped: unreadable or negative components {parts!r}")
        return None
    degrees, minutes, seconds = (value for value in values if value is not None)
    if minutes > 60 or seconds > 60:
        warnings.append(f"exif GPS: {what} dropped: minutes/seconds out of range {parts!r}")
        return None
    total = degrees + minutes / 60 + seconds / 3600
    reference = clean_text(ref).upper() if isinstance(ref, (str, bytes)) else ""
    if reference.startswith(negative):
        return -total
    if not reference.startswith(positive):
        warnings.append(f"exif GPS: {what} reference {ref!r} missing or unknown; taken as {positive}")
    return total


_ISO6709 = re.compile(
    r"^\s*(?P<lat>[+-]\d+(?:\.\d+)?)(?P<lon>[+-]\d+(?:\.\d+)?)(?P<alt>[+-]\d+(?:\.\d+)?)?(?:CRS[A-Za-z0-9_:.-]*)?/?\s*$"
)


def _iso6709_component(text: str, degree_digits: int) -> Decimal:
    """One ISO 6709 coordinate: ±DD(D).D, ±DD(D)MM.M or ±DD(D)MMSS.S, by its integer-part length."""
    sign = -1 if text[0] == "-" else 1
    body = text[1:]
    integer, _, fraction = body.partition(".")
    fraction_part = Decimal("0." + fraction) if fraction else Decimal(0)
    if len(integer) == degree_digits:
        value = Decimal(integer) + fraction_part
    elif len(integer) == degree_digits + 2:
        value = Decimal(integer[:degree_digits]) + (Decimal(integer[degree_digits:]) + fraction_part) / 60
    elif len(integer) == degree_digits + 4:
        minutes = Decimal(integer[degree_digits : degree_digits + 2])
        seconds = Decimal(integer[degree_digits + 2 :]) + fraction_part
        value = Decimal(integer[:degree_digits]) + minutes / 60 + seconds / 3600
    else:
        raise ValueError(f"unexpected ISO 6709 component {text!r}")
    return sign * value


def parse_iso6709(text: str, warnings: list[str], source: str) -> dict[str, str] | None:
    """A location from an ISO 6709 string such as '+32.0929+034.8620+028.516/' (QuickTime, Android)."""
    match = _ISO6709.match(text)
    if match is None:
        warnings.append(f"{source}: location dropped: not an ISO 6709 string {text!r}")
        return None
    try:
        latitude = _iso6709_component(match["lat"], 2)
        longitude = _iso6709_component(match["lon"], 3)
        altitude = Decimal(match["alt"]) if match["alt"] else None
    except (ValueError, InvalidOperation):
        warnings.append(f"{source}: location dropped: malformed ISO 6709 string {text!r}")
        return None
    return make_location(latitude, longitude, altitude, warnings, source)


_DATE = re.compile(
    r"^\s*(?P<y>\d{4})[:-](?P<mo>\d{2})[:-](?P<d>\d{2})(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?"
    r"(?:\.\d+)?)?\s*(?P<tz>Z|UTC|[+-]\d{2}:?\d{2})?\s*$"
)
_OFFSET = re.compile(r"^\s*(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})\s*$")


def parse_offset(text: Any) -> timezone | None:
    """A fixed offset from '+03:00', '-0500', 'Z'; None when absent or malformed."""
    if not isinstance(text, str):
        return None
    if text.strip() in ("Z", "UTC"):
        return UTC
    match = _OFFSET.match(text)
    if match is None:
        return None
    hours, minutes = int(match["h"]), int(match["m"])
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if match["sign"] == "-" else delta)


def make_captured_at(
    text: Any,
    warnings: list[str],
    source: str,
    *,
    offset: Any = None,
    assume_utc: bool = False,
    now: datetime | None = None,
) -> CapturedAt | None:
    """A validated capture time from EXIF ('2008:10:22 16:28:39'), ISO 8601 or QuickTime strings.

    `offset` (EXIF OffsetTimeOriginal) is applied when the text has none; `assume_utc` marks
    container times that are UTC by specification (MP4 creation_time). Otherwise the time stays
    naive: camera local time with no known offset.
    """
    if not isinstance(text, str) or not text.strip(" \x00"):
        return None
    match = _DATE.match(text.strip(" \x00"))
    if match is not None and int(match["y"]) == 0 and int(match["mo"]) == 0:
        warnings.append(f"{source}: date dropped: {text!r} is a zero placeholder (no time recorded)")
        return None
    if match is None:
        warnings.append(f"{source}: date dropped: unreadable {text!r}")
        return None
    try:
        naive = datetime(
            int(match["y"]), int(match["mo"]), int(match["d"]),
            int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0),
        )  # fmt: skip
    except ValueError:
        warnings.append(f"{source}: date dropped: impossible calendar date {text!r}")
        return None
    zone = parse_offset(match["tz"]) if match["tz"] else parse_offset(offset)
    if zone is None and assume_utc:
        zone = UTC
    reason = _implausible(naive, zone, now or datetime.now(UTC))
    if reason:
        warnings.append(f"{source}: date dropped: {text!r} is {reason}")
        return None
    if zone is None:
        return CapturedAt(naive.isoformat(), None)
    aware = naive.replace(tzinfo=zone)
    label = (
        "Z" if zone.utcoffset(None) == timedelta(0) and (match["tz"] in ("Z", "UTC") or assume_utc) else None
    )
    iso = aware.isoformat().replace("+00:00", "Z") if label == "Z" else aware.isoformat()
    return CapturedAt(iso, label or iso[-6:])


def _implausible(naive: datetime, zone: timezone | None, now: datetime) -> str | None:
    if naive.year < MIN_YEAR:
        return f"before {MIN_YEAR}"
    for placeholder, why in _PLACEHOLDER_DATES.items():
        if naive == placeholder:
            return why
    instant = naive.replace(tzinfo=zone or UTC)
    if instant > now + FUTURE_TOLERANCE:
        return "more than a day in the future"
    return None


def clean_text(value: Any) -> str:
    """A tag string without NULs or surrounding padding (PostgreSQL JSON refuses NUL characters)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).replace("\x00", "").strip()


def make_camera(make: Any, model: Any) -> dict[str, str] | None:
    result = {
        key: clean_text(value) for key, value in (("make", make), ("model", model)) if value is not None
    }
    result = {key: value for key, value in result.items() if value}
    return result or None


def jsonable(value: Any, depth: int = 0) -> Any:
    """A raw tag value made storable as canonical JSON: floats and rationals become decimal
    strings, bytes become base64 (or a size note when large), keys become strings."""
    if depth > 20:
        return "(nested too deep)"
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, bytes):
        if len(value) > MAX_RAW_BYTES:
            return f"(binary data {len(value)} bytes)"
        return "base64:" + base64.b64encode(value).decode("ascii")
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return decimal_text(value) if value.is_finite() else str(value)
    if isinstance(value, Fraction) or (hasattr(value, "numerator") and hasattr(value, "denominator")):
        try:
            numerator, denominator = int(value.numerator), int(value.denominator)
        except (TypeError, ValueError, ArithmeticError):
            return str(value)
        return str(numerator) if denominator == 1 else f"{numerator}/{denominator}"
    if isinstance(value, Mapping):
        return {jsonable(key, depth + 1) if isinstance(key, str) else str(key): jsonable(item, depth + 1)
                for key, item in value.items()}  # fmt: skip
    if isinstance(value, Iterable):
        return [jsonable(item, depth + 1) for item in value]
    return jsonable(str(value), depth + 1)


def one_line(error: BaseException) -> str:
    """An exception as one short line for a record's `error` or `warnings`."""
    lines = clean_text(str(error)).splitlines()
    return (lines[0] if lines else type(error).__name__)[:300]
