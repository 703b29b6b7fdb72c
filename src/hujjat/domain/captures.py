"""Web captures: the record of one attempt to preserve what a URL showed, and the pure rules
around it (URL checks, how a page's bytes are decoded into searchable text).

A capture keeps the raw bytes of everything it fetched (in the WARC and as artefacts); decoding is
only for search and display, so a wrong guess never loses evidence. The decoding follows the order
browsers use (byte-order mark, HTTP charset, <meta> prescan) and, where a page declares nothing,
prefers UTF-8 when the bytes are valid UTF-8 and otherwise tells the common Cyrillic single-byte
encodings apart by letter statistics, because small sites in the region often serve windows-1251
with no charset at all.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from hujjat.domain.errors import UsageError
from hujjat.domain.evidence import Sensitivity


class CaptureState(StrEnum):
    STARTED = "started"
    OK = "ok"
    FAILED = "failed"


class ArtefactRole(StrEnum):
    WARC = "warc"
    WACZ = "wacz"
    SCREENSHOT = "screenshot"
    PDF = "pdf"
    HTML = "html"
    IMAGE = "image"
    MEDIA = "media"


@dataclass(frozen=True)
class CapturedFile:
    """One file a capturer wrote into its working folder, and what it is."""

    role: ArtefactRole
    path: Path
    url: str | None = None  # where the bytes came from, for resources of the page


@dataclass
class PageSnapshot:
    """What a capturer brings back. `error` set means the capture failed (DNS, TLS, HTTP error
    status, timeout); files may still hold what was recorded before the failure."""

    url: str
    final_url: str | None = None
    status: int | None = None
    status_text: str | None = None
    headers: list[list[str]] = field(default_factory=list)
    files: list[CapturedFile] = field(default_factory=list)
    error: str | None = None
    title: str | None = None
    text: str | None = None
    encoding: str | None = None
    encoding_source: str | None = None
    warnings: list[str] = field(default_factory=list)
    tool: str | None = None  # e.g. "chromium 156.0 via playwright"


@dataclass(frozen=True)
class CaptureArtefact:
    role: str
    item_id: str
    sha256: str
    size: int
    media_type: str
    url: str | None
    name: str | None


@dataclass(frozen=True)
class Capture:
    id: str
    url: str
    started_at: datetime
    actor: str
    state: CaptureState = CaptureState.STARTED
    note: str | None = None
    final_url: str | None = None
    status: int | None = None
    status_text: str | None = None
    headers: list[list[str]] = field(default_factory=list)
    finished_at: datetime | None = None
    error: str | None = None
    title: str | None = None
    text: str | None = None
    encoding: str | None = None
    encoding_source: str | None = None
    warnings: list[str] = field(default_factory=list)
    tool: str | None = None
    sensitivity: Sensitivity = Sensitivity.INTERNAL  # like items: internal unless someone changes it


def check_url(url: str) -> str:
    """The URL stripped, or UsageError when it is not an absolute http(s) URL with a host."""
    cleaned = url.strip()
    parts = urlsplit(cleaned)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) URL: {url!r}")
    return cleaned


# --- decoding ---------------------------------------------------------------------------------

_CHARSET_RE = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_META_RE = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
PRESCAN_BYTES = 8192


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    source: str  # bom | http | meta | utf-8 | guess | fallback


def _codec(label: str | bytes | None) -> str | None:
    if not label:
        return None
    name = label.decode("ascii", "ignore") if isinstance(label, bytes) else label
    try:
        codec = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    # As browsers do (WHATWG Encoding): latin-1 labels mean windows-1252.
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET_RE.search(content_type.encode("latin-1", "ignore"))
    return _codec(match.group(1)) if match else None


def charset_from_meta(raw: bytes) -> str | None:
    """The first charset a <meta charset> or <meta http-equiv content="...charset="> declares."""
    for tag in _META_RE.finditer(raw[:PRESCAN_BYTES]):
        match = _CHARSET_RE.search(tag.group(0))
        if match:
            codec = _codec(match.group(1))
            # A page that says UTF-16 in a <meta> is ASCII-compatible bytes, so it cannot be.
            if codec and not codec.startswith("utf-16"):
                return codec
    return None


def _cyrillic_guess(raw: bytes) -> str | None:
    """windows-1251, koi8-r or None, by where the (mostly lower-case) letters fall."""
    high = [b for b in raw if b >= 0x80]
    if not high:
        return None
    lower_1251 = sum(1 for b in high if b >= 0xE0)  # а..я in windows-1251, А..Я in KOI8-R
    lower_koi = sum(1 for b in high if 0xC0 <= b < 0xE0)  # ю..ъ in KOI8-R, А..Я in windows-1251
    if (lower_1251 + lower_koi) * 2 < len(high):
        return None
    return "cp1251" if lower_1251 >= lower_koi else "koi8-r"


def decode_document(raw: bytes, content_type: str | None = None) -> DecodedText:
    """Decode a fetched HTML (or text) document the way a browser would, never raising."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return DecodedText(raw[len(bom) :].decode(name, "replace"), name, "bom")
    for source, codec in (
        ("http", charset_from_content_type(content_type)),
        ("meta", charset_from_meta(raw)),
    ):
        if codec:
            return DecodedText(raw.decode(codec, "replace"), codec, source)
    try:
        return DecodedText(raw.decode("utf-8"), "utf-8", "utf-8")
    except UnicodeDecodeError:
        pass
    guess = _cyrillic_guess(raw)
    if guess:
        return DecodedText(raw.decode(guess, "replace"), guess, "guess")
    return DecodedText(raw.decode("cp1252", "replace"), "cp1252", "fallback")


class _TextExtractor(HTMLParser):
    SKIP = frozenset({"script", "style", "noscript", "template", "svg"})
    BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.skipping = 0
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "title":
            self.in_title = True
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag == "title":
            self.in_title = False
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.skipping:
            self.parts.append(data)


def html_text(html: str) -> tuple[str | None, str]:
    """(title, visible text) of an HTML document, whitespace tidied, for search."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    title = " ".join("".join(parser.title).split()) or None
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return title, "\n".join(line for line in lines if line)
