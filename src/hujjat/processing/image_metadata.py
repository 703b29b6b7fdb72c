"""Image metadata with Pillow (and pillow-heif for iPhone HEIC/HEIF): size, EXIF, GPS, XMP.

Pillow opens images lazily, so reading tags never decodes pixels. After the tags are read the
image is checked for completeness, so a truncated image is reported as PARTIAL with the reason
instead of passing as sound: a JPEG by walking its marker segments to the first scan and finding
the end-of-image marker after it (entropy-coded data escapes every 0xFF, so the first FF D9 after
the scan header is the real end; 0.1 ms instead of 5-9 ms for decoding a phone photo at 1/8 scale,
which is what made metadata the slowest step of ingest), other formats by decoding the pixels once.
A JPEG complete in structure but with corrupt entropy data is not caught: libjpeg only warns on
those, and Pillow's decode check let them pass as well. Pillow's decompression-bomb
guard stays on: a bomb is recorded as the reason the image could not be read.
"""

from __future__ import annotations

import contextlib
import mmap
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import pillow_heif
from PIL import ExifTags, Image, UnidentifiedImageError

from hujjat.processing import xmp
from hujjat.processing.metadata_values import (
    Findings,
    dms_to_decimal,
    jsonable,
    make_camera,
    make_captured_at,
    make_location,
    one_line,
)

pillow_heif.register_heif_opener()

# Decode-check images up to this many pixels; larger ones (panoramas, scans) are only parsed.
DECODE_CHECK_MAX_PIXELS = 120_000_000
MAX_XMP_CHARS = 1_000_000  # Photoshop histories and embedded previews can make XMP huge
# Exif, GPS and Interop IFD pointers
_SUB_IFDS = (("Exif", ExifTags.IFD.Exif, ExifTags.TAGS), ("GPS", ExifTags.IFD.GPSInfo, ExifTags.GPSTAGS),
             ("Interop", ExifTags.IFD.Interop, ExifTags.TAGS))  # fmt: skip


class ImageReadError(Exception):
    """The image could not be opened at all; the message is the one-line reason."""


def read_image(path: Path, findings: Findings, raw: dict[str, Any]) -> str | None:
    """Fill `findings` and `raw` from the image at `path`.

    Returns None when everything was read, or a one-line reason when part of the image (its
    pixel data, a tag block) was unreadable. Raises ImageReadError when nothing could be read.
    """
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(path) as image:
                _read_open_image(image, findings, raw, problems)
        except Image.DecompressionBombError as error:
            raise ImageReadError(f"refused as a decompression bomb: {error}") from error
        except UnidentifiedImageError as error:
            raise ImageReadError("not an image Pillow can read") from error
        except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as error:
            raise ImageReadError(f"unreadable image: {one_line(error)}") from error
    for warning in caught:
        if issubclass(warning.category, Image.DecompressionBombWarning):
            findings.warnings.append(f"pillow: {warning.message}")
    return "; ".join(problems) or None


def _read_open_image(
    image: Image.Image, findings: Findings, raw: dict[str, Any], problems: list[str]
) -> None:
    findings.container = image.format
    findings.width, findings.height = image.size
    findings.extra["mode"] = image.mode
    frames = getattr(image, "n_frames", 1)
    if isinstance(frames, int) and frames > 1:
        findings.extra["frames"] = frames
    try:
        exif = image.getexif()
    except Exception as error:  # noqa: BLE001 - Pillow raises many types on malformed EXIF
        problems.append(f"EXIF unreadable: {one_line(error)}")
        exif = Image.Exif()
    groups = _exif_groups(exif, problems)
    if any(groups.values()):
        raw["exif"] = jsonable({name: tags for name, tags in groups.items() if tags})
    _interpret_exif(groups, findings)
    packet = image.info.get("xmp")
    if isinstance(packet, (bytes, str)) and packet:
        text = xmp.packet_text(packet)
        raw["xmp"] = (
            text if len(text) <= MAX_XMP_CHARS else f"(XMP packet of {len(text)} characters, not kept)"
        )
        _interpret_xmp(packet, findings)
    _decode_check(image, problems)


def _exif_groups(exif: Image.Exif, problems: list[str]) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {"IFD0": {}}
    for tag, value in exif.items():
        groups["IFD0"][ExifTags.TAGS.get(tag, f"0x{tag:04x}")] = value
    for name, ifd, names in _SUB_IFDS:
        try:
            block = exif.get_ifd(ifd)
        except Exception as error:  # noqa: BLE001 - malformed sub-IFDs raise anything
            problems.append(f"EXIF {name} block unreadable: {one_line(error)}")
            continue
        groups[name] = {names.get(tag, f"0x{tag:04x}"): value for tag, value in block.items()}
    return groups


def _interpret_exif(groups: dict[str, dict[str, Any]], findings: Findings) -> None:
    ifd0, exif, gps = groups["IFD0"], groups.get("Exif", {}), groups.get("GPS", {})
    findings.camera = make_camera(ifd0.get("Make"), ifd0.get("Model"))
    orientation = ifd0.get("Orientation")
    if isinstance(orientation, int) and 1 <= orientation <= 8:
        findings.extra["orientation"] = orientation
    for tag, offset_tag in (
        ("DateTimeOriginal", "OffsetTimeOriginal"),
        ("DateTimeDigitized", "OffsetTimeDigitized"),
    ):
        if findings.captured_at is None:
            stamp = make_captured_at(
                exif.get(tag), findings.warnings, f"exif {tag}", offset=exif.get(offset_tag)
            )
            findings.set_captured_at(stamp, f"exif.{tag}")
    pointer = ifd0.get("GPSInfo")
    if gps:
        findings.set_location(_gps_location(gps, findings.warnings), "exif.GPS")
    elif isinstance(pointer, int):
        findings.warnings.append("exif GPS: no location: the GPS block is empty")
    elif pointer is not None:
        findings.warnings.append("exif GPS: location dropped: the GPS block is not a readable IFD")


def _gps_location(gps: dict[str, Any], warnings_: list[str]) -> dict[str, str] | None:
    if "GPSLatitude" not in gps or "GPSLongitude" not in gps:
        warnings_.append("exif GPS: location dropped: GPS block has no latitude/longitude pair")
        return None
    latitude = dms_to_decimal(gps["GPSLatitude"], gps.get("GPSLatitudeRef"), "N", "S", "latitude", warnings_)
    longitude = dms_to_decimal(
        gps["GPSLongitude"], gps.get("GPSLongitudeRef"), "E", "W", "longitude", warnings_
    )
    if latitude is None or longitude is None:
        return None
    altitude = gps.get("GPSAltitude")
    if altitude is not None and _altitude_below_sea_level(gps.get("GPSAltitudeRef")):
        try:
            altitude = -altitude
        except TypeError:
            altitude = None
    return make_location(latitude, longitude, altitude, warnings_, "exif GPS")


def _altitude_below_sea_level(ref: Any) -> bool:
    if isinstance(ref, bytes):
        return ref[:1] == b"\x01"
    return bool(ref == 1)


def _interpret_xmp(packet: bytes | str, findings: Findings) -> None:
    try:
        found = xmp.properties(packet)
    except ValueError as error:
        findings.warnings.append(f"xmp: not read: {one_line(error)}")
        return
    for name in xmp.DATE_PROPERTIES:
        if findings.captured_at is None:
            stamp = make_captured_at(found.get(name), findings.warnings, f"xmp {name}")
            findings.set_captured_at(stamp, f"xmp.{name}")
    latitude, longitude = found.get("exif:GPSLatitude"), found.get("exif:GPSLongitude")
    if latitude and longitude and findings.location is None:
        altitude = found.get("exif:GPSAltitude")
        if altitude and found.get("exif:GPSAltitudeRef") == "1":
            altitude = "-" + altitude
        location = make_location(
            xmp.coordinate(latitude),
            xmp.coordinate(longitude),
            _xmp_number(altitude),
            findings.warnings,
            "xmp GPS",
        )
        findings.set_location(location, "xmp.GPS")
    if findings.camera is None:
        findings.camera = make_camera(found.get("tiff:Make"), found.get("tiff:Model"))


def _xmp_number(text: str | None) -> str | None:
    """XMP writes rationals as '2605606/10000'."""
    if not text:
        return None
    numerator, slash, denominator = text.partition("/")
    if not slash:
        return text
    try:
        return str(Decimal(int(numerator)) / Decimal(int(denominator))) if int(denominator) else None
    except (ValueError, ArithmeticError):
        return None


def _decode_check(image: Image.Image, problems: list[str]) -> None:
    width, height = image.size
    if width * height > DECODE_CHECK_MAX_PIXELS:
        return
    if image.format == "HEIF":
        return  # libheif fills missing tiles of a truncated HEIC silently: decoding proves nothing
    filename = getattr(image, "filename", None)  # set by Image.open(path)
    if image.format == "JPEG" and isinstance(filename, str) and filename:
        problem = jpeg_truncation(Path(filename))
        if problem:
            problems.append(f"image data unreadable: {problem}")
        return
    try:
        if image.format == "JPEG":
            image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
        image.load()
    except Image.DecompressionBombError:
        raise
    except Exception as error:  # noqa: BLE001 - decoders raise OSError, SyntaxError, ValueError...
        problems.append(f"image data unreadable: {one_line(error)}")


def jpeg_truncation(path: Path) -> str | None:
    """Why the JPEG at `path` is incomplete, or None when its structure runs to an end-of-image
    marker after the first scan. Segment lengths are followed, so an EXIF thumbnail's own end
    marker (inside APP1) is never mistaken for the image's."""
    with (
        path.open("rb") as handle,
        contextlib.suppress(ValueError),  # ValueError: mmap of an empty file
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
    ):
        return _jpeg_truncation(data)
    return "image file is truncated: empty"


def _jpeg_truncation(data: mmap.mmap) -> str | None:
    size, position = len(data), 2  # after SOI (FF D8), which Pillow already recognised
    while position + 1 < size:
        if data[position] != 0xFF:
            return f"image file is truncated or corrupt: no marker at byte {position}"
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xDA:  # start of scan: the end-of-image marker must follow the scan data
            if data[size - 2 :] == b"\xff\xd9":  # the usual case, no trailer: FF D9 after a scan is EOI
                return None
            # Any FF D9 after the scan's start will do, so search from the end: a trailer (a phone's
            # appended data, a motion photo's video) is usually shorter than the scan data, so this
            # stops sooner than a forward search (0.6 -> 0.1 ms a photo on the ingest bench's set).
            if data.rfind(b"\xff\xd9", position + 2) < 0:
                return "image file is truncated: no end-of-image marker after its scan data"
            return None
        if marker == 0xD9:
            return "image file is truncated: ends before any scan data"
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            position += 2
            continue
        if position + 3 >= size:
            break
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return "image file is truncated: ends in its headers"
