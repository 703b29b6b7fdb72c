"""Corrupt, truncated, hostile and odd input: metadata extraction reports, never raises."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from hujjat.domain.canonical import canonical_bytes
from hujjat.domain.evidence import MetadataRecord, MetadataStatus
from hujjat.processing import exiftool, synthetic
from hujjat.processing.metadata import detect_media_type, extract_metadata
from tests.unit.metadata_support import exiftool_mode, media_files

__all__ = ["exiftool_mode"]


def _extract(path: Path, media_type: str | None = None) -> MetadataRecord:
    record = extract_metadata(path, media_type or detect_media_type(path))
    canonical_bytes(record.data)
    if record.error is not None:
        assert record.error.strip() and "\n" not in record.error
    return record


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return synthetic.make_photo(
        tmp_path / "photo.jpg",
        width=640,
        height=480,
        seed=3,
        gps=(41.3, 69.24),
        taken_at=datetime(2025, 5, 1, 12),
    )


def test_truncated_jpeg_is_partial_with_its_tags(photo: Path, exiftool_mode: bool) -> None:
    cut = photo.with_name("cut.jpg")
    cut.write_bytes(photo.read_bytes()[: photo.stat().st_size // 2])
    record = _extract(cut)
    assert record.status is MetadataStatus.PARTIAL
    assert record.error is not None and "truncated" in record.error
    assert record.data["location"] == {"latitude": "41.3", "longitude": "69.24"}


def test_garbage_labelled_as_jpeg_fails_with_reason(tmp_path: Path, exiftool_mode: bool) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    record = _extract(path, "image/jpeg")
    assert record.status is MetadataStatus.FAILED
    assert record.data["location"] is None and record.data["captured_at"] is None


@pytest.mark.parametrize("fraction", [0.0, 0.02, 0.5, 0.9])
def test_truncated_video_fails_with_reason(tmp_path: Path, fraction: float, exiftool_mode: bool) -> None:
    video = synthetic.make_video(
        tmp_path / "v.mp4", seconds=1, fps=10, width=64, height=48, location=(1.5, 2.5)
    )
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: int(video.stat().st_size * fraction)])
    record = _extract(cut, "video/mp4")
    assert record.status in (MetadataStatus.FAILED, MetadataStatus.PARTIAL)
    assert record.error


def test_video_cut_inside_its_media_data_is_partial(tmp_path: Path, exiftool_mode: bool) -> None:
    """Headers first (faststart), media data cut: the tags are read and the damage is named."""
    video = synthetic.make_video(
        tmp_path / "v.mp4", seconds=2, fps=10, width=96, height=64, location=(1.5, 2.5), faststart=True
    )
    assert _extract(video).status is MetadataStatus.OK
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: int(video.stat().st_size * 0.6)])
    record = _extract(cut)
    assert record.status is MetadataStatus.PARTIAL
    assert record.error is not None and "cut short" in record.error
    assert record.data["location"] == {"latitude": "1.5", "longitude": "2.5"}


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "TIFF"])
def test_one_pixel_images(tmp_path: Path, fmt: str, exiftool_mode: bool) -> None:
    path = tmp_path / f"dot.{fmt.lower()}"
    Image.new("RGB", (1, 1), (200, 10, 10)).save(path, fmt)
    record = _extract(path)
    assert record.status is MetadataStatus.OK, record.error
    assert (record.data["width"], record.data["height"]) == (1, 1)
    assert record.data["location"] is None and record.data["captured_at"] is None


def test_decompression_bomb_is_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exiftool_mode: bool
) -> None:
    path = tmp_path / "bomb.png"
    Image.new("L", (200, 200)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 40,000 pixels is now over twice the limit
    record = _extract(path)
    assert record.status is (MetadataStatus.PARTIAL if exiftool_mode else MetadataStatus.FAILED)
    assert record.error is not None and "decompression bomb" in record.error


@pytest.mark.parametrize("media_type", ["image/jpeg", "video/mp4", "audio/mpeg", "text/plain"])
def test_missing_file_and_directory_do_not_raise(
    tmp_path: Path, media_type: str, exiftool_mode: bool
) -> None:
    for path in (tmp_path / "absent", tmp_path):
        record = _extract(path, media_type)
        assert record.status in (MetadataStatus.FAILED, MetadataStatus.UNSUPPORTED)


def test_empty_file(tmp_path: Path, exiftool_mode: bool) -> None:
    path = tmp_path / "empty"
    path.touch()
    assert detect_media_type(path) == "application/octet-stream"
    assert _extract(path).status is MetadataStatus.UNSUPPORTED
    assert _extract(path, "image/png").status is MetadataStatus.FAILED


def test_text_and_unknown_bytes_are_unsupported(tmp_path: Path, exiftool_mode: bool) -> None:
    note = synthetic.make_text_note(tmp_path / "note.txt", "Witness: two people taken away.")
    record = _extract(note)
    assert record.status is MetadataStatus.UNSUPPORTED
    assert record.data["kind"] == "text" and record.data["location"] is None
    blob = tmp_path / "blob"
    blob.write_bytes(bytes(range(256)) * 4)
    assert _extract(blob).status is MetadataStatus.UNSUPPORTED


def test_large_sparse_video_streams_in_bounded_memory(tmp_path: Path, exiftool_mode: bool) -> None:
    """A video padded to 3 GB (sparse, no disk used): headers are read, the rest is never loaded."""
    video = synthetic.make_video(tmp_path / "big.mp4", seconds=0.5, fps=10, width=64, height=48)
    with video.open("r+b") as stream:
        stream.truncate(3 * 1024**3)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    record = _extract(video)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert record.status in (MetadataStatus.OK, MetadataStatus.PARTIAL), record.error
    assert record.data["width"] == 64
    assert grown_mb < 100 and time.monotonic() - started < 10


def _fake_exiftool(folder: Path, body: str) -> str:
    program = folder / "exiftool"
    program.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    program.chmod(0o755)
    return str(program)


def test_exiftool_that_hangs_is_killed(tmp_path: Path) -> None:
    tool = exiftool.ExifTool(_fake_exiftool(tmp_path, "while read line; do :; done"), timeout=0.5)
    started = time.monotonic()
    with pytest.raises(exiftool.ExifToolError, match="did not answer"):
        tool.dump(tmp_path)
    assert time.monotonic() - started < 5
    tool.close()


def test_exiftool_garbage_and_death_are_errors(tmp_path: Path) -> None:
    protocol = (
        'while read line; do case "$line" in -execute*) '
        'echo "not json"; echo "{ready${line#-execute}}";; esac; done'
    )
    tool = exiftool.ExifTool(_fake_exiftool(tmp_path, protocol), timeout=5)
    with pytest.raises(exiftool.ExifToolError, match="unreadable"):
        tool.dump(tmp_path)
    with pytest.raises(exiftool.ExifToolError, match="unreadable"):
        tool.dump(tmp_path)  # the same process keeps serving
    tool.close()
    dead = exiftool.ExifTool(_fake_exiftool(tmp_path, "exit 3"), timeout=5)
    with pytest.raises(exiftool.ExifToolError):
        dead.dump(tmp_path)
    dead.close()


def test_broken_exiftool_only_adds_a_warning(
    photo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    _fake_exiftool(fake, "exit 3")
    monkeypatch.setenv("PATH", str(fake))
    monkeypatch.setenv("HUJJAT_EXIFTOOL", "1")
    record = _extract(photo)
    assert record.status is MetadataStatus.OK
    assert record.data["location"] is not None
    assert any(warning.startswith("exiftool") for warning in record.data["warnings"])
    assert "exiftool" not in record.data["raw"]


@pytest.mark.skipif(exiftool.executable() is None, reason="exiftool is not installed")
def test_real_exiftool_serves_many_requests_from_one_process(photo: Path) -> None:
    tool = exiftool.ExifTool(exiftool.executable() or "exiftool")
    dumps = [tool.dump(photo) for _ in range(5)]
    assert all(dump["IFD0:Make"] == synthetic.DEFAULT_MAKE for dump in dumps)
    assert all(isinstance(dump["Composite:GPSLatitude"], str) for dump in dumps), "floats stay decimal text"
    odd = photo.with_name("-odd name ж\n.jpg")
    odd.write_bytes(photo.read_bytes())
    assert tool.dump(odd)["IFD0:Model"] == synthetic.DEFAULT_MODEL
    tool.close()


def test_record_dates_stay_plausible_for_now(tmp_path: Path) -> None:
    future = synthetic.make_photo(
        tmp_path / "f.jpg", width=16, height=16, taken_at=datetime(2200, 1, 1, tzinfo=UTC)
    )
    data = _extract(future).data
    assert data["captured_at"] is None
    assert any("future" in warning for warning in data["warnings"])


@pytest.mark.skipif(exiftool.executable() is None, reason="exiftool is not installed")
def test_exiftool_ends_when_its_python_process_is_killed(photo: Path) -> None:
    """`exiftool -stay_open` ignores the end of its input; its watcher must end it after SIGKILL."""
    script = (
        "import sys, time; from pathlib import Path; from hujjat.processing import exiftool; "
        "tool = exiftool.shared(); tool.dump(Path(sys.argv[1])); "
        "print(tool._process.pid, flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(photo)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    group = int(child.stdout.readline())
    os.killpg(group, 0)  # the exiftool process group is alive
    child.kill()
    child.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(group, signal.SIGKILL)
    pytest.fail("exiftool outlived its killed parent")


def _live_members(group: int) -> list[int]:
    """Processes of this process group that are running (not zombies waiting to be reaped)."""
    live = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == group and fields[0] != "Z":
            live.append(int(entry.name))
    return live


@pytest.mark.skipif(exiftool.executable() is None, reason="exiftool is not installed")
def test_exiftool_group_is_killed_at_exit(photo: Path) -> None:
    """At exit the whole exiftool process group ends at once: the metadata child's exit, which
    `hujjat add` waits for, no longer waits for Perl to wind down, nor outlives its watcher's `sleep`."""
    tool = exiftool.shared()
    assert tool is not None
    tool.dump(photo)
    assert tool._process is not None
    group = tool._process.pid
    assert _live_members(group)
    exiftool._close_shared()  # what atexit runs
    deadline = time.monotonic() + 0.2
    while _live_members(group) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _live_members(group) == []


SMALL_MEDIA = [path for path in media_files() if path.stat().st_size < 300_000]


@pytest.mark.skipif(not SMALL_MEDIA, reason="media corpus absent")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(SMALL_MEDIA or [Path("/")]),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=12),
    st.floats(0.05, 1.0),
)
def test_corrupted_real_media_never_crashes(
    tmp_path: Path, original: Path, flips: list[tuple[int, int]], keep: float
) -> None:
    damaged = bytearray(original.read_bytes())
    for position, value in flips:
        damaged[position % len(damaged)] = value
    path = tmp_path / "damaged"
    path.write_bytes(damaged[: max(1, int(len(damaged) * keep))])
    record = _extract(path)
    assert not (record.error or "").startswith("metadata extraction crashed"), record.error
    location = record.data.get("location")
    if location:
        assert abs(float(location["latitude"])) <= 90 and abs(float(location["longitude"])) <= 180
    if record.data.get("captured_at"):
        assert 1900 <= int(record.data["captured_at"][:4]) <= datetime.now(UTC).year + 1
