"""Metadata extraction against every real file of the media corpus, checked against ExifTool 12.57.

The ground truth is an independent tool's reading (EXIFTOOL_12.57_GROUND_TRUTH.json). Every file
runs with and without ExifTool installed as the supplementary reader. The broken files must not
yield impossible coordinates or dates; none may raise.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hujjat.domain.canonical import canonical_bytes
from hujjat.domain.evidence import MetadataRecord, MetadataStatus
from hujjat.processing.metadata import detect_media_type, extract_metadata, present_metadata
from tests.unit.metadata_support import GROUND_TRUTH, MEDIA, exiftool_mode, media_files, needs_corpus

__all__ = ["exiftool_mode"]

pytestmark = needs_corpus

# Files FFmpeg refuses (Matroska header stubs with no clusters): only ExifTool reads them.
FFMPEG_UNREADABLE = {"Matroska.mkv", "sample.mkv"}
# The QuickTime.mov stub's movie header claims 4.97 s; its tracks, which FFmpeg measures, 0.43 s.
DURATION_DISAGREES = {"QuickTime.mov"}


def _truth() -> dict[str, dict[str, Any]]:
    if not GROUND_TRUTH.exists():
        return {}
    return {entry["System:FileName"]: entry for entry in json.loads(GROUND_TRUTH.read_text("utf-8"))}


TRUTH = _truth()


def _extract(path: Path) -> MetadataRecord:
    record = extract_metadata(path, detect_media_type(path))
    canonical_bytes(record.data)  # hashable: no floats anywhere, only JSON types
    return record


def _expected_capture(truth: dict[str, Any]) -> datetime | None:
    """The capture time ExifTool's tags imply, or None where they hold only garbage."""
    for tag, offset_tag in (
        ("Keys:CreationDate", None),
        ("ExifIFD:DateTimeOriginal", "ExifIFD:OffsetTimeOriginal"),
        ("XMP-exif:DateTimeOriginal", None),
        ("Matroska:DateTimeOriginal", None),
        ("QuickTime:CreateDate", None),
        ("XMP-xmp:CreateDate", None),
    ):
        value = truth.get(tag)
        if not value or value.startswith("0000") or value.startswith("2099"):
            continue
        text = re.sub(r"^(\d{4}):(\d{2}):(\d{2}) ", r"\1-\2-\3T", value).replace("Z", "+00:00")
        if offset_tag and truth.get(offset_tag):
            text += truth[offset_tag]
        if tag == "QuickTime:CreateDate":
            text += "+00:00"  # UTC by the QuickTime specification
        return datetime.fromisoformat(text)
    return None


def _expected_size(truth: dict[str, Any]) -> tuple[int, int] | None:
    if "File:ImageWidth" in truth:
        return truth["File:ImageWidth"], truth["File:ImageHeight"]
    for key in sorted(truth):
        if match := re.match(r"^(Track\d+):ImageWidth$", key):
            return truth[key], truth[f"{match[1]}:ImageHeight"]
    return None


def _expected_camera(truth: dict[str, Any]) -> dict[str, str] | None:
    for group in ("IFD0", "Keys"):
        if f"{group}:Make" in truth:
            return {"make": truth[f"{group}:Make"], "model": truth[f"{group}:Model"]}
    return None


def test_corpus_is_complete() -> None:
    names = {path.name for path in media_files()}
    assert names == set(TRUTH), "every corpus file has ground truth and vice versa"


@pytest.mark.parametrize("path", media_files(), ids=lambda p: p.name)
def test_against_exiftool_ground_truth(path: Path, exiftool_mode: bool) -> None:
    truth = TRUTH[path.name]
    record = _extract(path)
    data = record.data
    assert record.extractor == "hujjat.metadata"
    assert ("exiftool 12." in record.version) is exiftool_mode
    if path.name in FFMPEG_UNREADABLE and not exiftool_mode:
        assert record.status is MetadataStatus.FAILED
        assert record.error and "\n" not in record.error
        return
    assert record.status in (MetadataStatus.OK, MetadataStatus.PARTIAL), record.error

    if "Composite:GPSLatitude" in truth:
        location = present_metadata(data)["location"]
        assert location["latitude"] == pytest.approx(truth["Composite:GPSLatitude"], abs=1e-5)
        assert location["longitude"] == pytest.approx(truth["Composite:GPSLongitude"], abs=1e-5)
        if "Composite:GPSAltitude" in truth:
            assert location["altitude"] == pytest.approx(truth["Composite:GPSAltitude"], abs=1e-2)
    else:
        assert data["location"] is None

    expected = _expected_capture(truth)
    if expected is None:
        assert data["captured_at"] is None
    else:
        assert datetime.fromisoformat(data["captured_at"]) == expected
        assert (data["captured_at_offset"] is None) is (expected.tzinfo is None)

    size = _expected_size(truth)
    if size:
        assert (data["width"], data["height"]) == size

    camera = _expected_camera(truth)
    if camera:
        assert data["camera"] == camera

    duration = truth.get("QuickTime:Duration") or truth.get("Matroska:Duration")
    if duration and path.name not in DURATION_DISAGREES:
        assert Decimal(data["duration"]) == pytest.approx(Decimal(str(duration)), abs=Decimal("0.1"))


@pytest.mark.parametrize("path", media_files(), ids=lambda p: p.name)
def test_raw_dumps_are_kept(path: Path, exiftool_mode: bool) -> None:
    data = _extract(path).data
    assert ("exiftool" in data["raw"]) is exiftool_mode
    if exiftool_mode:
        assert not any(key.startswith("System:") for key in data["raw"]["exiftool"]), (
            "file-system facts left out"
        )


def test_iphone_video_location_and_offset_date(exiftool_mode: bool) -> None:
    data = _extract(MEDIA / "metadata-extractor-dotnet" / "with-gps.mov").data
    assert data["location"] == {"latitude": "32.0929", "longitude": "34.862", "altitude": "28.516"}
    assert data["captured_at"] == "2019-07-24T11:25:40+03:00"
    assert data["captured_at_offset"] == "+03:00"
    assert data["camera"] == {"make": "Apple", "model": "iPhone 6"}
    assert data["kind"] == "video"
    assert (
        data["raw"]["av_format_tags"]["com.apple.quicktime.location.ISO6709"] == "+32.0929+034.8620+028.516/"
    )
    kinds = [stream["kind"] for stream in data["streams"]]
    assert "video" in kinds and "audio" in kinds
    video = next(stream for stream in data["streams"] if stream["kind"] == "video")
    assert (video["codec"], video["width"], video["height"]) == ("h264", 568, 320)


def test_iphone_heic(exiftool_mode: bool) -> None:
    path = MEDIA / "exif-samples" / "IMG_5195.HEIC"
    assert detect_media_type(path) == "image/heic"
    data = _extract(path).data
    presented = present_metadata(data)["location"]
    assert presented["latitude"] == pytest.approx(39.0513444, abs=1e-6)
    assert presented["longitude"] == pytest.approx(-94.2887722, abs=1e-6)  # GPSLongitudeRef W
    assert data["captured_at"] == "2021-04-11T15:47:53-05:00"
    assert (data["width"], data["height"]) == (2566, 3313)
    assert data["raw"]["exif"]["GPS"]["GPSLongitudeRef"] == "W"


def test_gps_ifd_without_coordinates_gives_no_location(exiftool_mode: bool) -> None:
    data = _extract(MEDIA / "exif-samples" / "45-gps_ifd.jpg").data
    assert data["location"] is None
    assert data["captured_at"] == "2012-06-23T06:55:49"


def test_pillow_garbage_gps_and_2099_date_are_dropped(exiftool_mode: bool) -> None:
    data = _extract(MEDIA / "pillow" / "exif_gps.jpg").data
    assert data["location"] is None
    assert data["captured_at"] is None
    assert any("2099" in warning and "future" in warning for warning in data["warnings"])


def test_epoch_zero_audio_mp4_has_no_capture_time(exiftool_mode: bool) -> None:
    data = _extract(MEDIA / "pymediainfo" / "mp4-with-audio.mp4").data
    assert data["captured_at"] is None
    assert data["kind"] == "audio"


@pytest.mark.parametrize("name", ["invalid-exif.jpg", "exif_gps_typeerror.jpg", "empty_gps_ifd.jpg"])
def test_malformed_exif_does_not_crash(name: str, exiftool_mode: bool) -> None:
    record = _extract(MEDIA / "pillow" / name)
    assert record.status is MetadataStatus.OK
    assert record.data["location"] is None


def test_xmp_capture_time_with_offset_when_exif_lacks_it(exiftool_mode: bool) -> None:
    data = _extract(MEDIA / "pillow" / "exif_gps_typeerror.jpg").data
    assert data["captured_at"] == "2010-07-11T13:53:00+02:00"
    assert data["sources"]["captured_at"] == "xmp.exif:DateTimeOriginal"


def test_naive_camera_time_is_marked_local() -> None:
    data = _extract(MEDIA / "exif-samples" / "DSCN0010.jpg").data
    assert data["captured_at"] == "2008-10-22T16:28:39"
    assert data["captured_at_offset"] is None
