"""Repairs for the known ways Telegram Desktop writes invalid JSON, applied while streaming.

Telegram Desktop serialises JSON itself, pretty-printed with one key per line, and some versions
write invalid JSON:
- control characters as `\\xHH` inside strings (its own escaper; JSON only knows `\\u00HH`);
- `"document_id": video_files/sticker (2).webm` — an unquoted value (v4.1.1, 2022, custom emoji,
  tdesktop issues #24961/#24984);
- a UTF-8 byte-order mark in front of the document (written by some tools that re-save exports).

`RepairingReader` wraps the raw file and rewrites those line by line (a JSON string never spans
lines, because the exporter escapes newlines), counting what it changed so the import can say so.
It is only used when the file does not parse as it is, so valid exports are read untouched.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import BinaryIO

MAX_LINE = 64 * 1024 * 1024

_X_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\x([0-9A-Fa-f]{2})")
_KEY_VALUE = re.compile(rb'^(\s*"(?:[^"\\]|\\.)*"\s*:\s*)([^\s"{\[].*?)(\s*,)?\s*$', re.DOTALL)
_JSON_SCALAR = re.compile(rb"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_BOM = b"\xef\xbb\xbf"

REPAIR_TEXT = {
    "x_escape": "control characters written as \\xHH (not JSON) rewritten as \\u00HH",
    "unquoted_value": "unquoted values quoted (tdesktop 4.1.1 custom-emoji bug, issues #24961/#24984)",
    "bom": "byte-order mark before the JSON removed",
}


def repair_line(line: bytes, counts: Counter[str]) -> bytes:
    """One line of exporter output with the known defects fixed."""
    ending = b""
    if line.endswith(b"\r\n"):
        line, ending = line[:-2], b"\r\n"
    elif line.endswith(b"\n"):
        line, ending = line[:-1], b"\n"
    if b"\\x" in line:
        line, found = _X_ESCAPE.subn(rb"\1\\u00\2", line)
        counts["x_escape"] += found
    match = _KEY_VALUE.match(line)
    if match and not _JSON_SCALAR.fullmatch(match.group(2)):
        value = match.group(2).decode("utf-8", "replace")
        quoted = json.dumps(value, ensure_ascii=False).encode("utf-8")
        line = match.group(1) + quoted + (match.group(3) or b"").strip()
        counts["unquoted_value"] += 1
    return line + ending


class RepairingReader:
    """A binary file-like object giving the repaired bytes of `raw`."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.buffer = bytearray()
        self.counts: Counter[str] = Counter()
        self.first = True
        self.eof = False

    def _fill(self, wanted: int) -> None:
        while not self.eof and (wanted < 0 or len(self.buffer) < wanted):
            line = self.raw.readline(MAX_LINE)
            if not line:
                self.eof = True
                break
            if self.first:
                self.first = False
                if line.startswith(_BOM):
                    line = line[len(_BOM) :]
                    self.counts["bom"] += 1
            self.buffer += repair_line(line, self.counts)

    def read(self, size: int = -1) -> bytes:
        self._fill(size)
        if size < 0 or size >= len(self.buffer):
            data = bytes(self.buffer)
            self.buffer.clear()
            return data
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def describe(self) -> list[str]:
        return [f"{REPAIR_TEXT[key]}: {count}" for key, count in sorted(self.counts.items()) if count]
