"""Media type (MIME) detection from a file's content, never from its name.

Evidence arrives renamed, stripped of extensions or mislabelled, so the type comes from the
bytes: the `filetype` package's signatures, refined where it is too coarse for evidence work.
ISO base media files (MP4, QuickTime, HEIC, AVIF, M4A, 3GP) are told apart by their `ftyp`
brands, old QuickTime files without `ftyp` by their first atom, Matroska and WebM by the EBML
DocType. Files that decode as UTF-8 text with no NUL bytes are `text/plain`; anything else
unknown is `application/octet-stream`. Only the first 64 KiB are read.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import filetype

OCTET_STREAM = "application/octet-stream"
TEXT = "text/plain"
HEAD_BYTES = 65536

_HEIC_BRANDS = {"heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"}
_HEIF_BRANDS = {"mif1", "msf1", "mif2"}
_AVIF_BRANDS = {"avif", "avis"}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"PICT"}


def detect_media_type(path: Path) -> str:
    """The MIME type of the file at `path`, judged from its first bytes.

    Raises OSError when the file cannot be opened or read (gone, permission denied).
    """
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    if not head:
        return OCTET_STREAM
    detected = _iso_bmff(head) or _ebml(head)
    if detected:
        return detected
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    if _is_utf8_text(head):
        return TEXT
    return OCTET_STREAM


def _iso_bmff(head: bytes) -> str | None:
    if len(head) < 12:
        return None
    box_type = head[4:8]
    if box_type != b"ftyp":
        return "video/quicktime" if box_type in _QUICKTIME_ATOMS and _plausible_atom(head) else None
    size = int.from_bytes(head[0:4], "big")
    major = head[8:12].decode("latin-1")
    end = min(size if size >= 16 else 16, len(head))
    brands = {head[i : i + 4].decode("latin-1") for i in range(16, end - 3, 4)} | {major}
    if major in _HEIC_BRANDS or (major in _HEIF_BRANDS and brands & _HEIC_BRANDS):
        return "image/heic"
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and brands & _AVIF_BRANDS):
        return "image/avif"
    if major in _HEIF_BRANDS:
        return "image/heif"
    if major == "qt  ":
        return "video/quicktime"
    if major in ("M4A ", "M4B ", "M4P "):
        return "audio/mp4"
    if major.startswith("3gp") or major.startswith("3ge"):
        return "video/3gpp"
    if major.startswith("3g2"):
        return "video/3gpp2"
    if major in ("crx ",):
        return "image/x-canon-cr3"
    return "video/mp4"


def _plausible_atom(head: bytes) -> bool:
    """An ftyp-less QuickTime file starts with an atom whose size fits a real file."""
    size = int.from_bytes(head[0:4], "big")
    return size == 1 or size >= 8


def _ebml(head: bytes) -> str | None:
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    window = head[:4096]
    if b"\x42\x82\x84webm" in window:
        return "video/webm"
    if b"\x42\x82\x88matroska" in window:
        return "video/x-matroska"
    return None


def _is_utf8_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=len(head) < HEAD_BYTES)  # a cut multi-byte character is fine
    except UnicodeDecodeError:
        return False
    text = head.decode("utf-8", "ignore")
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f\v\x1b")
    return controls <= len(text) // 100
