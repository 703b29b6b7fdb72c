"""vPDQ comparison rules, settings validation, union-find, and fingerprints of bad input."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from hujjat.domain.near_duplicates import (
    STATUS_FAILED,
    STATUS_LOW_QUALITY,
    STATUS_OK,
    DedupSettings,
    FrameHash,
    UnionFind,
    compare_videos,
    distance,
    videos_match,
)
from hujjat.processing.dedup_samples import IMAGE_TRANSFORMS, reencode, scene, write_video
from hujjat.processing.fingerprints import fingerprint_file

SETTINGS = DedupSettings()
ZERO = "0" * 64


def _h(bits: int) -> str:
    return f"{(1 << bits) - 1:064x}"


def _frame(ms: int, digest: str, quality: int = 100) -> FrameHash:
    return FrameHash(ms // 1000, ms, quality, digest, "f" * 64)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares a huge picture (a decompression bomb) but carries almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_distance() -> None:
    assert distance(ZERO, _h(31)) == 31
    with pytest.raises(ValueError):
        distance("00", ZERO)


def test_video_rules_follow_vpdq() -> None:
    rnd = random.Random(4)
    long = [_frame(i * 1000, f"{rnd.getrandbits(256):064x}") for i in range(10)]
    clip = long[3:6]
    result = compare_videos(clip, long, SETTINGS)
    assert result.query_percent == 100.0 and result.other_percent == 30.0
    assert videos_match(result, SETTINGS)  # the clip is contained in the long video
    reverse = compare_videos(long, clip, SETTINGS)
    assert videos_match(reverse, SETTINGS)  # and the other way round
    # frames below the quality tolerance are not compared at all
    dull = [FrameHash(f.frame, f.timestamp_ms, 10, f.hash, f.flipped) for f in clip]
    assert compare_videos(dull, long, SETTINGS).containment == 0.0
    # the per-frame distance tolerance is inclusive
    assert compare_videos([_frame(0, ZERO)], [_frame(0, _h(31))], SETTINGS).pairs
    assert not compare_videos([_frame(0, ZERO)], [_frame(0, _h(32))], SETTINGS).pairs


def test_duplicate_frames_count_once() -> None:
    a = [_frame(i, ZERO) for i in range(5)] + [_frame(9, _h(100))]
    b = [_frame(0, ZERO)]
    result = compare_videos(a, b, SETTINGS)
    assert result.query_percent == 50.0  # two unique hashes, one matched


def test_settings_validation() -> None:
    assert DedupSettings.from_mapping({"image_distance": 20}).image_distance == 20
    for bad in (
        {"nope": 1},
        {"image_distance": 300},
        {"sample_fps": 0},
        {"min_quality": "x"},
        {"max_frames": True},
        {"frame_side": 10},
        {"image_distance": float("inf")},
    ):
        with pytest.raises(ValueError):
            DedupSettings.from_mapping(bad)


def test_union_find() -> None:
    groups = UnionFind()
    groups.union("a", "b")
    groups.union("c", "d")
    groups.union("b", "d")
    groups.add("e")
    assert sorted(sorted(g) for g in groups.groups()) == [["a", "b", "c", "d"], ["e"]]


def test_transformed_image_stays_close(tmp_path: Path) -> None:
    original = scene(7)
    original.save(tmp_path / "o.png")
    base = fingerprint_file(tmp_path / "o.png", "image/png", SETTINGS)
    assert base is not None and base.status == STATUS_OK
    for name in ("jpeg_q30", "resize_50", "flip"):
        IMAGE_TRANSFORMS[name](original).save(tmp_path / f"{name}.png")
        other = fingerprint_file(tmp_path / f"{name}.png", "image/png", SETTINGS)
        assert other is not None
        q, o = base.frames[0], other.frames[0]
        assert min(distance(q.hash, o.hash), distance(q.flipped, o.hash)) <= SETTINGS.image_distance, name


def test_bad_images_are_reported_not_raised(tmp_path: Path) -> None:
    Image.new("RGB", (1, 1)).save(tmp_path / "one.png")
    (tmp_path / "bomb.png").write_bytes(_png_header(40000, 40000))
    Image.new("RGB", (200, 200), "grey").save(tmp_path / "flat.png")
    (tmp_path / "junk.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    expected = {"one.png": STATUS_FAILED, "bomb.png": STATUS_FAILED, "flat.png": STATUS_LOW_QUALITY}
    expected["junk.jpg"] = STATUS_FAILED
    for name, status in expected.items():
        fp = fingerprint_file(tmp_path / name, "image/png", SETTINGS)
        assert fp is not None and fp.status == status and fp.reason, name
    assert fingerprint_file(tmp_path / "one.png", "text/plain", SETTINGS) is None


def test_animated_gif_is_hashed_by_time(tmp_path: Path) -> None:
    frames = [scene(s, 96, 72) for s in range(4)]
    for frame in frames:
        ImageDraw.Draw(frame).rectangle((0, 0, 10, 10), fill="white")
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=1000, loop=0)
    fp = fingerprint_file(tmp_path / "a.gif", "image/gif", SETTINGS)
    assert fp is not None and fp.kind == "vpdq" and fp.status == STATUS_OK
    assert [f.timestamp_ms for f in fp.frames] == [0, 1000, 2000, 3000]


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    upright = scene(21, 240, 160)
    upright.save(tmp_path / "posted.jpg", quality=85)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view": the camera stored the pixels turned
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "camera.jpg", quality=95, exif=exif)
    a = fingerprint_file(tmp_path / "posted.jpg", "image/jpeg", SETTINGS)
    b = fingerprint_file(tmp_path / "camera.jpg", "image/jpeg", SETTINGS)
    assert a is not None and b is not None
    assert distance(a.frames[0].hash, b.frames[0].hash) <= SETTINGS.image_distance


def test_multipage_tiff_is_an_image_not_an_animation(tmp_path: Path) -> None:
    pages = [scene(s, 96, 72) for s in range(3)]
    pages[0].save(tmp_path / "scan.tiff", save_all=True, append_images=pages[1:])
    fp = fingerprint_file(tmp_path / "scan.tiff", "image/tiff", SETTINGS)
    assert fp is not None and fp.kind == "pdq" and len(fp.frames) == 1


def test_videos_good_and_bad(tmp_path: Path) -> None:
    source = write_video(tmp_path / "v.mp4", 3, seconds=6)
    clip = reencode(source, tmp_path / "clip.mp4", start_s=2, seconds=3)
    a = fingerprint_file(source, "video/mp4", SETTINGS)
    b = fingerprint_file(clip, "video/mp4", SETTINGS)
    assert a is not None and b is not None and a.status == b.status == STATUS_OK
    assert [f.timestamp_ms for f in a.frames] == [0, 1000, 2000, 3000, 4000, 5000]
    from_memory = fingerprint_file(io.BytesIO(source.read_bytes()), "video/mp4", SETTINGS)
    assert from_memory is not None and from_memory.frames == a.frames
    assert videos_match(compare_videos(b.frames, a.frames, SETTINGS), SETTINGS)
    damaged = bytearray(source.read_bytes())
    for i in range(2000, len(damaged) - 2000, 97):
        damaged[i] ^= 0x5A
    (tmp_path / "damaged.mp4").write_bytes(bytes(damaged))
    (tmp_path / "cut.mp4").write_bytes(source.read_bytes()[: len(damaged) // 3])
    from hujjat.processing.synthetic import make_audio

    audio = make_audio(tmp_path / "a.m4a")
    for path in (tmp_path / "damaged.mp4", tmp_path / "cut.mp4", audio):
        fp = fingerprint_file(path, "video/mp4", SETTINGS)
        assert fp is not None and (fp.status == STATUS_OK or fp.reason), path
    no_video = fingerprint_file(audio, "video/mp4", SETTINGS)
    assert (
        no_video is not None
        and no_video.status == STATUS_FAILED
        and "no video stream" in (no_video.reason or "")
    )


def test_same_hashes_as_meta_vpdq_at_full_size(tmp_path: Path) -> None:
    vpdq = pytest.importorskip("vpdq", reason="Meta's vpdq is optional (needs libav*-dev to build)")
    video = write_video(tmp_path / "v.mp4", 8, seconds=5, size=(320, 240))
    reference = vpdq.computeHash(str(video), seconds_per_hash=1.0)
    mine = fingerprint_file(video, "video/mp4", DedupSettings(frame_side=0))
    assert mine is not None
    assert [(f.hash, f.quality, f.timestamp_ms) for f in mine.frames] == [
        (r.hex, r.quality, round(r.timestamp * 1000)) for r in reference
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["image_distance", "frame_distance", "min_quality", "sample_fps", "frame_side", "other"]
        ),
        st.one_of(
            st.integers(-1000, 1000),
            st.floats(allow_nan=True, allow_infinity=True),
            st.text(max_size=3),
            st.booleans(),
            st.none(),
        ),
    )
)
def test_settings_parse_or_refuse_cleanly(raw: dict[str, object]) -> None:
    try:
        parsed = DedupSettings.from_mapping(raw)
    except ValueError:
        return
    assert 0 <= parsed.image_distance < 128 and 0 < parsed.sample_fps <= 30
