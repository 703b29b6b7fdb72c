"""Synthetic evidence is real media, deterministic, and its metadata reads back exactly."""

from __future__ import annotations

import wave
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import av
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageStat

from hujjat.domain.evidence import MetadataStatus
from hujjat.processing import synthetic
from hujjat.processing.metadata import detect_media_type, extract_metadata, present_metadata
from tests.unit.metadata_support import exiftool_mode

__all__ = ["exiftool_mode"]

TASHKENT = timezone(timedelta(hours=5))


@pytest.mark.parametrize(
    ("gps", "taken_at", "captured_at", "offset"),
    [
        (
            (41.2994958, 69.2400734),
            datetime(2026, 3, 1, 9, 30, 5, tzinfo=TASHKENT),
            "2026-03-01T09:30:05+05:00",
            "+05:00",
        ),
        ((-33.8688197, -70.6692655), datetime(2024, 12, 31, 23, 59, 59), "2024-12-31T23:59:59", None),
        ((55.7558, 37.6173), datetime(2025, 6, 1, 8, 0, tzinfo=UTC), "2025-06-01T08:00:00+00:00", "+00:00"),
    ],
)
def test_photo_round_trip(
    tmp_path: Path, gps: tuple[float, float], taken_at: datetime, captured_at: str, offset: str | None,
    exiftool_mode: bool,
) -> None:  # fmt: skip
    path = synthetic.make_photo(
        tmp_path / "p.jpg", width=320, height=240, seed=5, gps=gps, taken_at=taken_at, make="Acme", model="X1",
        altitude=-12.5,
    )  # fmt: skip
    assert detect_media_type(path) == "image/jpeg"
    record = extract_metadata(path, "image/jpeg")
    assert record.status is MetadataStatus.OK
    data = record.data
    location = present_metadata(data)["location"]
    assert location["latitude"] == pytest.approx(gps[0], abs=1e-7)
    assert location["longitude"] == pytest.approx(gps[1], abs=1e-7)
    assert location["altitude"] == pytest.approx(-12.5)
    assert (data["captured_at"], data["captured_at_offset"]) == (captured_at, offset)
    assert data["camera"] == {"make": "Acme", "model": "X1"}
    assert (data["width"], data["height"]) == (320, 240)
    if exiftool_mode:
        dump = data["raw"]["exiftool"]
        assert float(dump["Composite:GPSLatitude"]) == pytest.approx(gps[0], abs=1e-7)
        assert dump["ExifIFD:DateTimeOriginal"] == taken_at.strftime("%Y:%m:%d %H:%M:%S")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.floats(min_value=-89.9999999, max_value=89.9999999),
    st.floats(min_value=-179.9999999, max_value=179.9999999),
)
def test_photo_gps_round_trips_to_seven_places(tmp_path: Path, latitude: float, longitude: float) -> None:
    path = synthetic.make_photo(tmp_path / "p.jpg", width=16, height=16, gps=(latitude, longitude))
    data = extract_metadata(path, "image/jpeg").data
    if round(latitude, 7) == 0 and round(longitude, 7) == 0:
        return
    location = present_metadata(data)["location"]
    assert location["latitude"] == pytest.approx(latitude, abs=1.5e-7)
    assert location["longitude"] == pytest.approx(longitude, abs=1.5e-7)


def test_photo_is_deterministic_and_not_blank(tmp_path: Path) -> None:
    kwargs = {
        "width": 200,
        "height": 150,
        "seed": 9,
        "gps": (1.0, 2.0),
        "taken_at": datetime(2025, 1, 2, 3, 4, 5),
    }
    first = synthetic.make_photo(tmp_path / "a.jpg", **kwargs)  # type: ignore[arg-type]
    second = synthetic.make_photo(tmp_path / "b.jpg", **kwargs)  # type: ignore[arg-type]
    other = synthetic.make_photo(tmp_path / "c.jpg", **{**kwargs, "seed": 10})  # type: ignore[arg-type]
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    with Image.open(first) as image:
        assert max(ImageStat.Stat(image.convert("L")).stddev) > 20, "visible content, not a flat fill"


def test_png(tmp_path: Path) -> None:
    path = synthetic.make_png(tmp_path / "s.png", width=120, height=90, seed=1)
    assert (
        synthetic.make_png(tmp_path / "t.png", width=120, height=90, seed=1).read_bytes() == path.read_bytes()
    )
    record = extract_metadata(path, detect_media_type(path))
    assert record.status is MetadataStatus.OK
    assert (record.data["width"], record.data["height"], record.data["container"]) == (120, 90, "PNG")


def test_video_round_trip_and_playable(tmp_path: Path, exiftool_mode: bool) -> None:
    created = datetime(2026, 3, 2, 11, 0, 7, tzinfo=timezone(timedelta(hours=3)))
    path = synthetic.make_video(
        tmp_path / "v.mp4", seconds=1.0, fps=12, width=160, height=120, seed=2, location=(41.3, -69.2401),
        created_at=created,
    )  # fmt: skip
    assert detect_media_type(path) == "video/mp4"
    record = extract_metadata(path, "video/mp4")
    assert record.status is MetadataStatus.OK, record.error
    data = record.data
    assert data["location"] == {"latitude": "41.3", "longitude": "-69.2401"}
    assert data["captured_at"] == "2026-03-02T11:00:07+03:00"
    assert data["raw"]["av_format_tags"]["creation_time"].startswith("2026-03-02T08:00:07")
    assert (data["kind"], data["width"], data["height"], data["duration"]) == ("video", 160, 120, "1")
    assert data["camera"] == {"make": synthetic.DEFAULT_MAKE, "model": synthetic.DEFAULT_MODEL}
    expected_codec = "h264" if synthetic.video_codec() == "libx264" else "mpeg4"
    assert data["streams"][0]["codec"] == expected_codec
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 12
    first, last = frames[0].to_image(), frames[-1].to_image()
    assert first.tobytes() != last.tobytes(), "the picture moves"


def test_video_without_metadata_and_utc_creation(tmp_path: Path) -> None:
    plain = synthetic.make_video(tmp_path / "plain.mp4", seconds=0.2, fps=5, width=32, height=32)
    data = extract_metadata(plain, "video/mp4").data
    assert data["location"] is None and data["captured_at"] is None
    naive = synthetic.make_video(
        tmp_path / "utc.mp4", seconds=0.2, fps=5, width=32, height=32, created_at=datetime(2025, 1, 1, 12)
    )
    data = extract_metadata(naive, "video/mp4").data
    assert (data["captured_at"], data["captured_at_offset"]) == ("2025-01-01T12:00:00Z", "Z")


@pytest.mark.parametrize("suffix", [".wav", ".m4a"])
def test_audio(tmp_path: Path, suffix: str) -> None:
    path = synthetic.make_audio(tmp_path / f"a{suffix}", 1.5, seed=3)
    record = extract_metadata(path, detect_media_type(path))
    assert record.status is MetadataStatus.OK, record.error
    assert record.data["kind"] == "audio"
    assert float(record.data["duration"]) == pytest.approx(1.5, abs=0.1)
    assert record.data["streams"][0]["sample_rate"] == 22050
    if suffix == ".wav":
        with wave.open(str(path)) as reader:
            assert reader.getnframes() == 33075 and reader.getsampwidth() == 2
        assert synthetic.make_audio(tmp_path / "b.wav", 1.5, seed=3).read_bytes() == path.read_bytes()


def test_text_note(tmp_path: Path) -> None:
    text = "Свидетель: сотрудники проверяли документы."
    path = synthetic.make_text_note(tmp_path / "n.txt", text)
    assert path.read_text("utf-8") == text + "\n"
    assert detect_media_type(path) == "text/plain"


@pytest.mark.parametrize(("fmt", "codec", "media_type"), [("matroska", "mpeg4", "video/x-matroska"),
                                                          ("webm", "libvpx", "video/webm")])  # fmt: skip
def test_matroska_and_webm_tags(tmp_path: Path, fmt: str, codec: str, media_type: str) -> None:
    """Matroska writes tag names in upper case (LOCATION); they are read all the same."""
    if codec not in av.codecs_available:
        pytest.skip(f"this PyAV has no {codec} encoder")
    path = tmp_path / f"clip.{fmt}"
    with av.open(str(path), "w", format=fmt) as container:
        container.metadata["creation_time"] = "2025-05-05T05:05:05.000000Z"
        container.metadata["location"] = "+41.2995+069.2401/"
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"  # type: ignore[union-attr]
        for index in range(10):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (index * 20, 50, 50)))  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):  # type: ignore[union-attr]
                container.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            container.mux(packet)
    assert detect_media_type(path) == media_type
    record = extract_metadata(path, media_type)
    assert record.status is MetadataStatus.OK, record.error
    assert record.data["captured_at"] == "2025-05-05T05:05:05Z"
    assert record.data["location"] == {"latitude": "41.2995", "longitude": "69.2401"}
    assert (record.data["width"], record.data["height"], record.data["duration"]) == (64, 48, "1")
