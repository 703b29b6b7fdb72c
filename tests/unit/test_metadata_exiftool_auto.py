"""ExifTool's default `auto` mode, and the structural JPEG completeness check that replaced decoding.

In `auto` mode a photo Pillow read completely gets no ExifTool request (the costliest step of
ingest); whatever Pillow could not fully read, and every video, still gets ExifTool's full dump.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from hujjat.domain.evidence import MetadataStatus
from hujjat.processing import exiftool, synthetic
from hujjat.processing.image_metadata import jpeg_truncation
from hujjat.processing.metadata import extract_metadata
from tests.unit.metadata_support import needs_exiftool


@pytest.fixture
def auto_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUJJAT_EXIFTOOL", raising=False)
    assert exiftool.mode() == "auto"


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return synthetic.make_photo(
        tmp_path / "photo.jpg", width=320, height=240, seed=5, gps=(38.56, 68.78), taken_at=datetime(2025, 3, 1, 9)
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", "off"), ("off", "off"), ("1", "always"), ("always", "always"), ("auto", "auto"), ("", "auto")],
)
def test_mode_from_environment(monkeypatch: pytest.MonkeyPatch, value: str, expected: str) -> None:
    monkeypatch.setenv("HUJJAT_EXIFTOOL", value)
    assert exiftool.mode() == expected


@needs_exiftool
def test_complete_photo_skips_exiftool_in_auto_mode(auto_mode: None, photo: Path) -> None:
    record = extract_metadata(photo, "image/jpeg")
    assert record.status is MetadataStatus.OK
    assert "exiftool" not in record.data["raw"]
    assert record.version.endswith("exiftool not needed")
    assert record.data["location"] == {"latitude": "38.56", "longitude": "68.78"}


@needs_exiftool
def test_truncated_photo_and_video_get_exiftool_in_auto_mode(auto_mode: None, photo: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(photo.read_bytes()[: photo.stat().st_size // 2])
    record = extract_metadata(cut, "image/jpeg")
    assert record.status is MetadataStatus.PARTIAL and "truncated" in (record.error or "")
    assert "exiftool" in record.data["raw"] and "exiftool 12." in record.version
    video = synthetic.make_video(tmp_path / "v.mp4", seconds=1, fps=5, width=64, height=48, seed=2)
    record = extract_metadata(video, "video/mp4")
    assert "exiftool" in record.data["raw"]


def _jpeg(progressive: bool, with_thumbnail: bool) -> bytes:
    image = Image.new("RGB", (96, 64), (120, 30, 200))
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    out = io.BytesIO()
    image.save(out, "JPEG", progressive=progressive, exif=exif.tobytes(), quality=90)
    data = out.getvalue()
    if with_thumbnail:  # an APP1 segment holding a JPEG of its own, with its own FF D9
        thumb = io.BytesIO()
        Image.new("RGB", (8, 8)).save(thumb, "JPEG")
        payload = b"Exif\x00\x00" + thumb.getvalue()
        data = data[:2] + b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]
    return data


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    progressive=st.booleans(),
    thumbnail=st.booleans(),
    cut=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    tail=st.binary(max_size=64),
)
def test_jpeg_check_finds_every_cut_before_the_end(
    tmp_path: Path, progressive: bool, thumbnail: bool, cut: float, tail: bytes
) -> None:
    data = _jpeg(progressive, thumbnail)
    path = tmp_path / "x.jpg"
    path.write_bytes(data + tail)  # bytes after the end marker are ignored, as by every reader
    assert jpeg_truncation(path) is None
    keep = 2 + int(cut * (len(data) - 3))  # SOI kept, the final FF D9 never complete
    path.write_bytes(data[:keep])
    assert jpeg_truncation(path) is not None


def test_empty_and_marker_less_files_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "e.jpg"
    path.write_bytes(b"")
    assert "empty" in (jpeg_truncation(path) or "")
    path.write_bytes(b"\xff\xd8" + b"\x00" * 100)
    assert "no marker" in (jpeg_truncation(path) or "")
