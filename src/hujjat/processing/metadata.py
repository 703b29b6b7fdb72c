"""Media metadata extraction: one normalized record per item, whatever the format.

`detect_media_type(path)` judges the MIME type from content (see media_types). Then
`extract_metadata(path, media_type)` runs the reader for the kind of media (Pillow +
pillow-heif for images, PyAV for video and audio), then ExifTool when installed and wanted
(`exiftool.mode()`: by default for everything but images Pillow read completely), which adds its
full dump and fills in what the first reader could not find. It never raises: an unreadable file
gives status FAILED with a one-line `error`, a partly readable one PARTIAL.

The record's `data` has one shape for every kind (see docs/metadata.md):
`kind`, `location` ({latitude, longitude, altitude?} or None), `captured_at` (ISO 8601, with an
offset when one is known) and `captured_at_offset` ("+03:00", "Z", or None for camera local time
of unknown offset), `width`, `height`, `duration` (seconds), `camera` ({make, model}),
`container`, `streams`, `sources` (which tag each interpreted value came from), `warnings`
(values dropped as impossible, and why) and `raw` (unmodified tag dumps per reader: `exif`,
`xmp`, `av_format_tags`, `av_stream_tags`, `exiftool`).

No value in `data` is a float, because records are hashed as canonical JSON, which forbids
them: fractional numbers are decimal strings, coordinates rounded to 7 places (about 1 cm),
e.g. "43.4674483". `present_metadata(data)` turns latitude, longitude and altitude into JSON
numbers for display and `--json` output, so scripts read `metadata.location.latitude` as a
number.
"""

from __future__ import annotations

import functools
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import av

from hujjat.domain.evidence import MetadataRecord, MetadataStatus
from hujjat.domain.metadata_view import present_metadata
from hujjat.processing import exiftool
from hujjat.processing.av_metadata import AVReadError, read_av
from hujjat.processing.exiftool_fields import fill_from_exiftool
from hujjat.processing.image_metadata import ImageReadError, read_image
from hujjat.processing.media_types import detect_media_type
from hujjat.processing.metadata_values import Findings, one_line

__all__ = ["EXTRACTOR", "detect_media_type", "extract_metadata", "extractor_version", "present_metadata"]

EXTRACTOR = "hujjat.metadata"
RULES_VERSION = "1"  # bump when normalization or validation rules change
_AV_KINDS = ("video/", "audio/")


def extract_metadata(path: Path, media_type: str) -> MetadataRecord:
    """Read the metadata of the file at `path`, of type `media_type`; never raises."""
    try:
        return _extract(path, media_type)
    except Exception as error:  # noqa: BLE001 - a failure is data: one bad file must not stop an ingest
        return MetadataRecord(
            EXTRACTOR,
            extractor_version(),
            MetadataStatus.FAILED,
            {},
            f"metadata extraction crashed: {one_line(error)}",
        )


def _extract(path: Path, media_type: str) -> MetadataRecord:
    findings = Findings()
    raw: dict[str, Any] = {}
    status, error = _primary_reader(path, media_type, findings, raw)
    tool = exiftool.shared() if _wants_exiftool(media_type, status) else None
    if tool is not None:
        try:
            dump = tool.dump(path)
        except exiftool.ExifToolError as tool_error:
            findings.warnings.append(one_line(tool_error))
        else:
            raw["exiftool"] = dump
            filled = fill_from_exiftool(dump, findings)
            if status is MetadataStatus.FAILED and filled:
                status = MetadataStatus.PARTIAL
    data = _assemble(findings, raw, media_type)
    used = tool.version() if tool is not None else ("not needed" if exiftool.executable() else "absent")
    return MetadataRecord(EXTRACTOR, f"{_library_versions()}; exiftool {used}", status, data, error)


def _wants_exiftool(media_type: str, status: MetadataStatus) -> bool:
    """ExifTool adds nothing worth 6-9 ms a file to an image Pillow read completely (its EXIF,
    GPS and XMP are all read) unless `always` asks for its full dump on every file."""
    if media_type.startswith("text/"):
        return False
    if exiftool.mode() == "always":
        return True
    return not (media_type.startswith("image/") and status is MetadataStatus.OK)


def _primary_reader(
    path: Path, media_type: str, findings: Findings, raw: dict[str, Any]
) -> tuple[MetadataStatus, str | None]:
    try:
        if media_type.startswith(("image/", *_AV_KINDS)):
            reader = read_image if media_type.startswith("image/") else read_av
            problem = reader(path, findings, raw)
            return (MetadataStatus.PARTIAL, problem) if problem else (MetadataStatus.OK, None)
    except (ImageReadError, AVReadError) as error:
        return MetadataStatus.FAILED, one_line(error)
    return MetadataStatus.UNSUPPORTED, None


def _kind(media_type: str, findings: Findings) -> str:
    if media_type.startswith("image/"):
        return "image"
    if media_type.startswith(_AV_KINDS) and findings.streams:
        return "video" if any(s["kind"] == "video" for s in findings.streams) else "audio"
    return media_type.split("/", 1)[0]


def _assemble(findings: Findings, raw: dict[str, Any], media_type: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": _kind(media_type, findings),
        "location": findings.location,
        "captured_at": findings.captured_at,
        "captured_at_offset": findings.captured_at_offset,
        "width": findings.width,
        "height": findings.height,
        "duration": findings.duration,
        "camera": findings.camera,
        "container": findings.container,
        "streams": findings.streams,
        "sources": findings.sources,
        "warnings": list(dict.fromkeys(findings.warnings)),
        "raw": raw,
    }
    data.update(findings.extra)
    return data


def extractor_version() -> str:
    """The rules version and the versions of every reader, e.g. '1; pillow 13.0.0; av 18.1.0;
    ffmpeg/libavformat 62.12.102; exiftool 12.57' (exiftool 'absent' when not installed or turned
    off). A record names the ExifTool version only when ExifTool read that file ('not needed'
    where it was skipped)."""
    tool = exiftool.shared()
    return f"{_library_versions()}; exiftool {tool.version() if tool else 'absent'}"


@functools.cache
def _library_versions() -> str:
    parts = [RULES_VERSION]
    for package in ("pillow", "pillow-heif", "av"):
        try:
            parts.append(f"{package} {package_metadata.version(package)}")
        except package_metadata.PackageNotFoundError:
            parts.append(f"{package} absent")
    libavformat = av.library_versions.get("libavformat")
    parts.append(
        "ffmpeg/libavformat " + (".".join(str(p) for p in libavformat) if libavformat else "unknown")
    )
    return "; ".join(parts)
