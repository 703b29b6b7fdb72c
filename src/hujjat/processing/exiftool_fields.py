"""Interpreting an ExifTool dump (`exiftool -j -G1 -n`) as a fallback for the normalized fields.

Pillow and PyAV are the primary readers; ExifTool fills only what they left empty (the
Matroska headers FFmpeg refuses, QuickTime atoms FFmpeg does not expose, images Pillow cannot
open). With `-n`, ExifTool's Composite GPS values are signed decimal degrees. Every value passes
the same validation as the primary readers' (metadata_values).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from hujjat.processing.metadata_values import (
    Findings,
    decimal_text,
    make_camera,
    make_captured_at,
    make_location,
    to_decimal,
)

# (tag, offset tag or None, whether the time is UTC by specification), in order of preference.
_DATE_TAGS: tuple[tuple[str, str | None, bool], ...] = (
    ("ExifIFD:DateTimeOriginal", "ExifIFD:OffsetTimeOriginal", False),
    ("Keys:CreationDate", None, False),
    ("UserData:DateTimeOriginal", None, False),
    ("XMP-exif:DateTimeOriginal", None, False),
    ("XMP-photoshop:DateCreated", None, False),
    ("Matroska:DateTimeOriginal", None, True),
    ("QuickTime:CreateDate", None, True),
    ("ExifIFD:CreateDate", "ExifIFD:OffsetTimeDigitized", False),
    ("XMP-xmp:CreateDate", None, False),
)
_MAKE_TAGS = ("IFD0:Make", "Keys:Make", "UserData:Make", "XMP-tiff:Make")
_MODEL_TAGS = ("IFD0:Model", "Keys:Model", "UserData:Model", "XMP-tiff:Model")
_DURATION_TAGS = ("QuickTime:Duration", "Matroska:Duration", "RIFF:Duration", "Composite:Duration")
_TRACK = re.compile(r"^Track(\d+):ImageWidth$")


def fill_from_exiftool(dump: dict[str, Any], findings: Findings) -> bool:
    """Fill the fields `findings` lacks from `dump`; return whether anything was filled."""
    before = _snapshot(findings)
    if findings.location is None and "Composite:GPSLatitude" in dump:
        location = make_location(
            dump.get("Composite:GPSLatitude"),
            dump.get("Composite:GPSLongitude"),
            dump.get("Composite:GPSAltitude"),
            findings.warnings,
            "exiftool GPS",
        )
        findings.set_location(location, "exiftool.Composite:GPSLatitude")
    for tag, offset_tag, utc in _DATE_TAGS:
        if findings.captured_at is not None:
            break
        offset = dump.get(offset_tag) if offset_tag else None
        stamp = make_captured_at(
            _text(dump.get(tag)), findings.warnings, f"exiftool {tag}", offset=offset, assume_utc=utc
        )
        findings.set_captured_at(stamp, f"exiftool.{tag}")
    if findings.width is None or findings.height is None:
        findings.width, findings.height = _dimensions(dump)
    if findings.duration is None:
        findings.duration = next((d for d in (_seconds(dump.get(tag)) for tag in _DURATION_TAGS) if d), None)
    if findings.camera is None:
        make = next((dump[tag] for tag in _MAKE_TAGS if tag in dump), None)
        model = next((dump[tag] for tag in _MODEL_TAGS if tag in dump), None)
        findings.camera = make_camera(_text(make), _text(model))
    if findings.container is None and isinstance(dump.get("File:FileType"), str):
        findings.container = dump["File:FileType"]
    return _snapshot(findings) != before


def _snapshot(findings: Findings) -> tuple[Any, ...]:
    """The substantive fields: a file type name alone does not make a failed read partial."""
    return (findings.location, findings.captured_at, findings.width, findings.height, findings.duration,
            findings.camera)  # fmt: skip


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _positive_int(value: Any) -> int | None:
    number = to_decimal(value)
    if number is None or number <= 0 or number != number.to_integral_value():
        return None
    return int(number)


def _dimensions(dump: dict[str, Any]) -> tuple[int | None, int | None]:
    width, height = _positive_int(dump.get("File:ImageWidth")), _positive_int(dump.get("File:ImageHeight"))
    if width and height:
        return width, height
    size = dump.get("Composite:ImageSize")  # ExifTool's pick among PNG:, Track1:, ... sizes: "704 576"
    if isinstance(size, str) and len(parts := size.replace("x", " ").split()) == 2:
        width, height = _positive_int(parts[0]), _positive_int(parts[1])
        if width and height:
            return width, height
    tracks = sorted(int(match[1]) for key in dump if (match := _TRACK.match(key)))
    for track in tracks:
        width = _positive_int(dump.get(f"Track{track}:ImageWidth"))
        height = _positive_int(dump.get(f"Track{track}:ImageHeight"))
        if width and height:
            return width, height
    return None, None


def _seconds(value: Any) -> str | None:
    number = to_decimal(value)
    if number is None or number <= 0:
        return None
    return decimal_text(number, Decimal("0.000001"))
