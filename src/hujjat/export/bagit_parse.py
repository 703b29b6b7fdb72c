"""Parsing BagIt (RFC 8493) tag files strictly: bagit.txt, manifests, bag-info.txt and fetch.txt.

Kept apart from the checks that use it (bagit_check.py) so each rule can be tested on its own.
Every parser returns what it understood plus a list of problems (fatal) and warnings, because a
validator must name every fault it sees, not stop at the first. Paths are decoded the RFC's way
(only `%0D`, `%0A`, `%25` are escapes) and refused when they could leave the bag.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

# Manifest algorithm names as they appear in file names -> hashlib names. Upper-case names are not
# BagIt algorithm names (RFC 8493 2.4 asks for lower case), so they stay unknown.
ALGORITHMS = {
    "md5": "md5",
    "sha1": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "sha3-256": "sha3_256",
    "sha3256": "sha3_256",
    "sha3-512": "sha3_512",
    "sha3512": "sha3_512",
}
DIGEST_LENGTHS = {
    "md5": 32,
    "sha1": 40,
    "sha224": 56,
    "sha256": 64,
    "sha384": 96,
    "sha512": 128,
    "sha3_256": 64,
    "sha3_512": 128,
}

_DECLARATION_LINE = re.compile(r"^([A-Za-z0-9-]+): (\S.*)$")
_VERSION = re.compile(r"^\d+\.\d+$")
_BAG_INFO_LINE = re.compile(r"^([^\s:][^:]*?)\s*:\s*(.*)$")
_ESCAPE = re.compile(r"%(0[dDaA]|25)")
_DRIVE = re.compile(r"^[A-Za-z]:")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class Parsed:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Declaration(Parsed):
    version: str | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class ManifestLine:
    digest: str
    path: str  # decoded, with any tolerated `./` or `*` removed
    line: int


@dataclass
class Manifest(Parsed):
    name: str = ""
    algorithm: str | None = None  # hashlib name, None when unsupported
    lines: list[ManifestLine] = field(default_factory=list)


@dataclass(frozen=True)
class FetchLine:
    url: str
    length: int | None
    path: str
    line: int


@dataclass
class Fetch(Parsed):
    lines: list[FetchLine] = field(default_factory=list)


@dataclass
class BagInfo(Parsed):
    tags: list[tuple[str, str]] = field(default_factory=list)

    def values(self, label: str) -> list[str]:
        return [v for k, v in self.tags if k.lower() == label.lower()]


def split_lines(text: str) -> list[str]:
    """Tag files may end lines with LF, CRLF or CR (RFC 8493 2.1)."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse_declaration(raw: bytes) -> Declaration:
    """bagit.txt: UTF-8 without a byte-order mark, `BagIt-Version: M.N` then
    `Tag-File-Character-Encoding: NAME`, each exactly `Label: value`."""
    result = Declaration()
    if raw.startswith(UTF8_BOM) or raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        result.problems.append("bagit.txt starts with a byte-order mark (not allowed)")
        return result
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        result.problems.append("bagit.txt is not UTF-8")
        return result
    seen: dict[str, str] = {}
    for number, line in enumerate(split_lines(text), 1):
        match = _DECLARATION_LINE.match(line)
        if not match:
            result.problems.append(f"bagit.txt line {number} is not `Label: value`: {line!r}")
            continue
        label, value = match.groups()
        if label in seen:
            result.problems.append(f"bagit.txt repeats {label}")
        seen[label] = value.strip()
    version, encoding = seen.pop("BagIt-Version", None), seen.pop("Tag-File-Character-Encoding", None)
    if version is None:
        result.problems.append("bagit.txt lacks BagIt-Version")
    elif not _VERSION.match(version):
        result.problems.append(f"bagit.txt: BagIt-Version {version!r} is not MAJOR.MINOR")
    else:
        result.version = version
    if encoding is None:
        result.problems.append("bagit.txt lacks Tag-File-Character-Encoding")
    else:
        try:
            codecs.lookup(encoding)
            result.encoding = encoding
        except LookupError:
            result.problems.append(f"bagit.txt: unknown Tag-File-Character-Encoding {encoding!r}")
    for label in seen:
        message = f"bagit.txt has an extra line {label!r} (only two are defined)"
        (result.problems if result.version == "1.0" else result.warnings).append(message)
    return result


def decode_tag_text(raw: bytes, encoding: str, name: str, out: Parsed) -> str | None:
    codec = codecs.lookup(encoding).name
    if codec == "utf-8" and raw.startswith(UTF8_BOM):
        out.warnings.append(f"{name} starts with a byte-order mark")
        raw = raw[len(UTF8_BOM) :]
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        out.problems.append(f"{name} is not valid {encoding} ({exc.reason} at byte {exc.start})")
        return None


def decode_path(raw: str) -> str:
    """Undo the only escapes BagIt defines: %0D, %0A and %25 (any case)."""
    return _ESCAPE.sub(lambda m: {"0d": "\r", "0a": "\n", "25": "%"}[m.group(1).lower()], raw)


def unsafe_path(path: str) -> str | None:
    """Why a manifest or fetch path could reach outside the bag, or None when it cannot."""
    if path.startswith(("/", "\\")):
        return "absolute path"
    if path.startswith("~"):
        return "home-directory shortcut"
    if _DRIVE.match(path) or "\\" in path:
        return "Windows drive or separator"
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path):
        return "URL, not a relative path"
    if "%" in path and re.search(r"%[A-Za-z]+%", path):
        return "environment-variable shortcut"
    if any(part == ".." for part in path.split("/")):
        return "`..` segment"
    if "\x00" in path:
        return "NUL character"
    return None


def _clean_path(raw_path: str, where: str, out: Parsed) -> str | None:
    path = decode_path(raw_path)
    if path.startswith("*"):
        out.warnings.append(f"{where}: `*` before the path (written by md5sum-style tools in binary mode)")
        path = path[1:]
    while path.startswith("./"):
        out.warnings.append(f"{where}: leading `./` in {path!r}")
        path = path[2:]
    reason = unsafe_path(path)
    if reason:
        out.problems.append(f"{where}: unsafe path {path!r} ({reason})")
        return None
    if not path or path.endswith("/"):
        out.problems.append(f"{where}: {path!r} is not a file path")
        return None
    return path


def parse_manifest(name: str, text: str, algorithm: str | None) -> Manifest:
    """`<checksum> <filepath>` per line, separated by one or more spaces or tabs."""
    result = Manifest(name=name, algorithm=algorithm)
    for number, line in enumerate(split_lines(text), 1):
        if not line.strip():
            result.warnings.append(f"{name} line {number} is blank")
            continue
        parts = re.split(r"[ \t]+", line, maxsplit=1)
        if len(parts) != 2 or not parts[1]:
            result.problems.append(f"{name} line {number} is not `checksum path`: {line!r}")
            continue
        digest, raw_path = parts[0].lower(), parts[1]
        if algorithm and (len(digest) != DIGEST_LENGTHS[algorithm] or re.search(r"[^0-9a-f]", digest)):
            result.problems.append(f"{name} line {number}: {parts[0]!r} is not a {algorithm} checksum")
            continue
        path = _clean_path(raw_path, f"{name} line {number}", result)
        if path is not None:
            result.lines.append(ManifestLine(digest, path, number))
    return result


def parse_bag_info(text: str, name: str = "bag-info.txt") -> BagInfo:
    """`Label: value` lines; a line starting with space or tab continues the previous value.
    Labels are matched case-insensitively; separators with spaces around the colon are tolerated."""
    result = BagInfo()
    for number, line in enumerate(split_lines(text), 1):
        if line[:1] in (" ", "\t"):
            if not result.tags:
                result.problems.append(f"{name} line {number} continues nothing")
            else:
                label, value = result.tags[-1]
                result.tags[-1] = (label, f"{value} {line.strip()}".strip())
            continue
        if not line.strip():
            continue
        match = _BAG_INFO_LINE.match(line)
        if not match:
            result.problems.append(f"{name} line {number} is not `Label: value`: {line!r}")
            continue
        result.tags.append((match.group(1), match.group(2).strip()))
    return result


def parse_fetch(text: str) -> Fetch:
    """`<url> <length or -> <filepath>` per line; paths must stay under data/."""
    result = Fetch()
    for number, line in enumerate(split_lines(text), 1):
        if not line.strip():
            continue
        parts = re.split(r"[ \t]+", line.strip(), maxsplit=2)
        where = f"fetch.txt line {number}"
        if len(parts) != 3:
            result.problems.append(f"{where} is not `url length path`: {line!r}")
            continue
        url, length, raw_path = parts
        if not _URL.match(url) or url.lower().startswith("file:"):
            result.problems.append(f"{where}: {url!r} is not a fetchable URL")
            continue
        if length != "-" and not length.isdigit():
            result.problems.append(f"{where}: length {length!r} is neither a number nor `-`")
            continue
        path = _clean_path(raw_path, where, result)
        if path is None:
            continue
        if not path.startswith("data/"):
            result.problems.append(f"{where}: {path!r} is outside the payload directory data/")
            continue
        result.lines.append(FetchLine(url, None if length == "-" else int(length), path, number))
    return result
