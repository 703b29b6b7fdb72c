"""Streaming over result.json with ijson: memory stays flat whatever the export's size.

Two passes over the bytes. `scan` reads the whole document once (ijson's C parser, fast) to prove
it is complete, valid JSON before anything is written, to learn each chat's name/type/id wherever
they sit in the object, and to count messages for the progress bar. `iter_messages` then rebuilds
one message object at a time. Its builder keeps duplicate keys instead of silently dropping them
(tdesktop 5.9 writes `"text"` twice on star-gift service messages, issue #28781): the last value
wins, as in every JSON parser, and the earlier ones are kept under `duplicate_keys`.

Both single-chat exports (`messages` at the root) and full-account exports (`chats.list`,
`left_chats.list`; also a bare `chats` array, which some hand-made exports use) are read. Each
message's JSON path is reported, e.g. `chats.list[3].messages[17]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import ijson

from hujjat.intake.telegram.archive_files import ExportError

MESSAGE_PREFIXES = {
    "messages.item": "",
    "chats.list.item.messages.item": "chats.list",
    "left_chats.list.item.messages.item": "left_chats.list",
    "chats.item.messages.item": "chats",
}
CHAT_PREFIXES = {"chats.list.item": "chats.list", "left_chats.list.item": "left_chats.list", "chats.item": "chats"}
CHAT_FIELDS = ("name", "type", "id", "username")
_SCALARS = frozenset({"null", "boolean", "integer", "double", "number", "string"})

Slot = tuple[str, int]  # (list the chat sits in, its index); ("", 0) for a single-chat export


@dataclass
class Scan:
    chats: dict[Slot, dict[str, Any]] = field(default_factory=dict)
    messages: dict[Slot, int] = field(default_factory=dict)
    root_keys: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.messages.values())


# 'chats.list.item.name' -> ('chats.list', 'name'); a root 'name' -> ('', 'name')
_CHAT_FIELD_PREFIXES = {f: ("", f) for f in CHAT_FIELDS} | {
    f"{head}.{f}": (group, f) for head, group in CHAT_PREFIXES.items() for f in CHAT_FIELDS
}


def scan(stream: BinaryIO) -> Scan:
    """Validate the whole document and collect chat headers; raises ExportError when invalid."""
    result = Scan()
    index: dict[str, int] = {}
    try:
        for prefix, event, value in ijson.parse(stream, use_float=False):
            if event == "start_map":
                if prefix in CHAT_PREFIXES:
                    group = CHAT_PREFIXES[prefix]
                    index[group] = index.get(group, -1) + 1
                    result.chats[(group, index[group])] = {}
                elif prefix in MESSAGE_PREFIXES:
                    group = MESSAGE_PREFIXES[prefix]
                    slot = (group, index.get(group, 0))
                    result.messages[slot] = result.messages.get(slot, 0) + 1
            elif event == "map_key" and prefix == "":
                result.root_keys.add(value)
            elif (found := _CHAT_FIELD_PREFIXES.get(prefix)) is not None and event in _SCALARS:
                group, name = found
                slot = (group, index.get(group, 0))
                result.chats.setdefault(slot, {})[name] = value
    except ijson.JSONError as exc:
        raise ExportError(f"not valid JSON: {_one_line(exc)}") from None
    if not result.root_keys & {"messages", "chats", "left_chats"}:
        raise ExportError("not a Telegram Desktop export: the JSON has no messages, chats or left_chats")
    return result


class _Builder:
    """Builds one JSON value from ijson events, keeping duplicate keys."""

    def __init__(self) -> None:
        self.stack: list[Any] = []
        self.keys: list[str | None] = []
        self.value: Any = None
        self.duplicates: list[tuple[str, Any]] = []

    def _add(self, value: Any) -> None:
        if not self.stack:
            self.value = value
            return
        top = self.stack[-1]
        if isinstance(top, list):
            top.append(value)
            return
        key = self.keys[-1] or ""
        if key in top:
            self.duplicates.append((key, top[key]))
        top[key] = value

    def feed(self, event: str, value: Any) -> bool:
        """Take one event; True when the value is complete."""
        if event in ("start_map", "start_array"):
            container: Any = {} if event == "start_map" else []
            self._add(container)
            self.stack.append(container)
            self.keys.append(None)
        elif event == "map_key":
            self.keys[-1] = value
        elif event in ("end_map", "end_array"):
            self.stack.pop()
            self.keys.pop()
        else:
            self._add(value)
        return not self.stack


class _DupDict(dict[str, Any]):
    """A dict that remembers values its keys had before being written again (ijson's C builder
    calls __setitem__ for each key, so duplicates are seen)."""

    __slots__ = ("dups",)

    def __init__(self) -> None:
        super().__init__()
        self.dups: list[tuple[str, Any]] | None = None

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self:
            if self.dups is None:
                self.dups = []
            self.dups.append((key, dict.__getitem__(self, key)))
        dict.__setitem__(self, key, value)


def _duplicate_notes(message: dict[str, Any], duplicates: list[tuple[str, Any]]) -> list[str]:
    dupes: dict[str, list[Any]] = {}
    for key, old in duplicates:
        dupes.setdefault(key, []).append(old)
    message["duplicate_keys"] = dupes
    return ["duplicate keys " + ", ".join(sorted(dupes)) + ": last value used, earlier kept"]


def _iter_single(stream: BinaryIO) -> Iterator[tuple[Slot, str, Any, list[str]]]:
    """Fast path for single-chat exports: ijson's C builder does the work."""
    try:
        for number, message in enumerate(ijson.items(stream, "messages.item", map_type=_DupDict, use_float=False)):
            notes: list[str] = []
            if isinstance(message, _DupDict) and message.dups:
                notes = _duplicate_notes(message, message.dups)
            yield ("", 0), f"messages[{number}]", message, notes
    except ijson.JSONError as exc:
        raise ExportError(f"not valid JSON: {_one_line(exc)}") from None


def iter_messages(stream: BinaryIO, single: bool = False) -> Iterator[tuple[Slot, str, Any, list[str]]]:
    """(chat slot, JSON path, message, repair notes) for every message, in file order."""
    if single:
        yield from _iter_single(stream)
        return
    index: dict[str, int] = {}
    counters: dict[Slot, int] = {}
    builder: _Builder | None = None
    slot: Slot = ("", 0)
    path = ""
    try:
        for prefix, event, value in ijson.parse(stream, use_float=False):
            if builder is not None:
                if builder.feed(event, value):
                    message = builder.value
                    notes = _duplicate_notes(message, builder.duplicates) if builder.duplicates else []
                    builder = None
                    yield slot, path, message, notes
                continue
            if event != "start_map":
                continue
            if prefix in CHAT_PREFIXES:
                group = CHAT_PREFIXES[prefix]
                index[group] = index.get(group, -1) + 1
            elif prefix in MESSAGE_PREFIXES:
                group = MESSAGE_PREFIXES[prefix]
                slot = (group, index.get(group, 0))
                number = counters.get(slot, 0)
                counters[slot] = number + 1
                path = f"messages[{number}]" if not group else f"{group}[{slot[1]}].messages[{number}]"
                builder = _Builder()
                builder.feed(event, value)
    except ijson.JSONError as exc:
        raise ExportError(f"not valid JSON: {_one_line(exc)}") from None


def _one_line(error: Exception) -> str:
    """yajl's messages span lines (with a caret picture); keep the first line."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
