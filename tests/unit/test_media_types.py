"""Media type detection judges content, never the file name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hujjat.processing import synthetic
from hujjat.processing.media_types import detect_media_type
from tests.unit.metadata_support import GROUND_TRUTH, media_files, needs_corpus

# ExifTool's finer names for what we call by the container's usual type.
SAME_FAMILY = {"audio/mp4": "video/mp4", "application/x-matroska": "video/x-matroska"}


@needs_corpus
@pytest.mark.parametrize("path", media_files(), ids=lambda p: p.name)
def test_corpus_types_match_exiftool(path: Path) -> None:
    truth = {entry["System:FileName"]: entry for entry in json.loads(GROUND_TRUTH.read_text("utf-8"))}
    expected = truth[path.name]["File:MIMEType"]
    assert detect_media_type(path) == SAME_FAMILY.get(expected, expected)


def test_extension_is_ignored(tmp_path: Path) -> None:
    photo = synthetic.make_photo(tmp_path / "photo.jpg", width=32, height=32)
    disguised = tmp_path / "notes.txt"
    disguised.write_bytes(photo.read_bytes())
    assert detect_media_type(disguised) == "image/jpeg"
    text = tmp_path / "clip.mp4"
    text.write_text("not a video at all\n", encoding="utf-8")
    assert detect_media_type(text) == "text/plain"


def test_generated_media(tmp_path: Path) -> None:
    assert detect_media_type(synthetic.make_png(tmp_path / "a", width=16, height=16)) == "image/png"
    video = synthetic.make_video(tmp_path / "b", seconds=0.2, fps=5, width=32, height=32)
    assert detect_media_type(video) == "video/mp4"
    assert detect_media_type(synthetic.make_audio(tmp_path / "c.wav", 0.1)) == "audio/x-wav"
    assert detect_media_type(synthetic.make_audio(tmp_path / "d.m4a", 0.1)) == "audio/mp4"
    note = synthetic.make_text_note(tmp_path / "e", "Шоҳид: дар бозор милиса ҳуҷҷатҳоро тафтиш кард.")
    assert detect_media_type(note) == "text/plain"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1", "image/heif"),
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00avifmif1", "image/avif"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "video/quicktime"),
        (b"\x00\x00\x00\x14ftypM4A \x00\x00\x00\x00isom", "audio/mp4"),
        (b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00isom", "video/3gpp"),
        (b"\x00\x00\x00\x14ftypisom\x00\x00\x02\x00mp41", "video/mp4"),
        (b"\x00\x00\x0f\x17moov\x00\x00\x00\x6cmvhd", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x84webm\x42\x87", "video/webm"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "video/x-matroska"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"", "application/octet-stream"),
        (b"\x00\x01\x02\x03garbage\xff\xfe", "application/octet-stream"),
        ("Свидетель: текст\n".encode(), "text/plain"),
        (b"Guvoh: politsiya\r\n", "text/plain"),
        (b"caf\xe9 latin-1 is not utf-8", "application/octet-stream"),
    ],
)
def test_signatures(tmp_path: Path, head: bytes, expected: str) -> None:
    path = tmp_path / "sample.bin"
    path.write_bytes(head + b"\x00" * 64 if expected.startswith(("image/", "video/", "audio/")) else head)
    assert detect_media_type(path) == expected


def test_text_cut_inside_a_multibyte_character(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_bytes(b"x" + ("ж" * 40000).encode())  # the first 64 KiB end inside a 2-byte character
    assert detect_media_type(path) == "text/plain"


@settings(max_examples=60)
@given(st.binary(max_size=300))
def test_any_bytes_get_a_type(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "x"
    path.write_bytes(content)
    kind = detect_media_type(path)
    assert "/" in kind
