"""A Telegram Desktop export opened for import: the streaming source the import service reads.

`open_export(PATH)` accepts the export folder, its `result.json`, or a `.zip` of either. It
validates the JSON completely before anything is imported (a truncated export is refused, with
nothing written), repairs the known exporter defects when the file does not parse as it is (and
lists what it repaired), and resolves each chat's stable key. `records()` then streams
PostRecords; `locate()` resolves media paths without ever leaving the export folder.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

from hujjat.domain.posts import ChatInfo, MediaLocation, MediaRef, MediaStatus, PostRecord, SkippedMessage
from hujjat.intake.telegram.archive_files import (
    ExportError,
    ExportLimits,
    extract_zip,
    find_result,
    locate,
    remove_tree,
)
from hujjat.intake.telegram.messages import chat_key, to_record
from hujjat.intake.telegram.reader import Scan, Slot, iter_messages, scan
from hujjat.intake.telegram.repair import RepairingReader

__all__ = ["ExportError", "ExportLimits", "TelegramExport", "open_export"]


@dataclass
class TelegramExport:
    original: Path
    result_path: Path
    root: Path
    repaired: bool
    scanned: Scan
    chats: dict[Slot, ChatInfo]
    utc_offset: timedelta | None = None
    repairs: list[str] = field(default_factory=list)
    skipped_entries: list[str] = field(default_factory=list)
    temporary: Path | None = None

    @property
    def label(self) -> str:
        return str(self.original)

    @property
    def message_total(self) -> int:
        return self.scanned.total

    @contextmanager
    def _stream(self) -> Iterator[BinaryIO]:
        with self.result_path.open("rb") as raw:
            yield cast(BinaryIO, RepairingReader(raw)) if self.repaired else raw

    def records(self) -> Iterator[PostRecord | SkippedMessage]:
        with self._stream() as stream:
            single = "messages" in self.scanned.root_keys
            for slot, path, message, notes in iter_messages(stream, single):
                chat = self.chats.get(slot) or _chat_info({}, {}, single=False)[0]
                if not isinstance(message, dict):
                    yield SkippedMessage(path, f"a message must be a JSON object, not {type(message).__name__}")
                    continue
                yield to_record(message, chat, path, self.utc_offset, notes)

    def locate(self, ref: MediaRef) -> MediaLocation:
        if ref.placeholder is not None or ref.path is None:
            return MediaLocation(None, MediaStatus.NOT_EXPORTED, ref.placeholder)
        return locate(self.root, ref.path)

    def close(self) -> None:
        if self.temporary is not None:
            remove_tree(self.temporary)
            self.temporary = None

    def __enter__(self) -> TelegramExport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _chat_info(header: dict[str, Any], usernames: dict[str, str], single: bool) -> tuple[ChatInfo, str | None]:
    chat_type = str(header.get("type") or "")
    name = header.get("name")
    name = str(name) if name is not None else None
    key, number, note = chat_key(header.get("id"), chat_type, name)
    username = header.get("username") or usernames.get(key) or usernames.get(str(header.get("id")))
    if username is None and number is not None:
        username = usernames.get(str(number))
    if username is None and single:
        username = usernames.get("")
    username = str(username).lstrip("@") if username else None
    return ChatInfo(key=key, raw_id=number, name=name, type=chat_type, username=username), note


def _validate(result: Path) -> tuple[Scan, bool, list[str]]:
    """Scan as written; when that fails, scan through the repairer; else refuse."""
    try:
        with result.open("rb") as raw:
            return scan(raw), False, []
    except ExportError as first:
        try:
            with result.open("rb") as raw:
                reader = RepairingReader(raw)
                scanned = scan(cast(BinaryIO, reader))
        except ExportError:
            raise ExportError(f"{result}: {first}; nothing was imported") from None
        return scanned, True, reader.describe()


def open_export(
    path: Path,
    *,
    usernames: dict[str, str] | None = None,
    utc_offset: timedelta | None = None,
    limits: ExportLimits | None = None,
    workdir: Path | None = None,
) -> TelegramExport:
    """Open a folder, result.json or zip; raise ExportError (nothing written) when unreadable."""
    original = path.absolute()
    temporary: Path | None = None
    skipped: list[str] = []
    try:
        if path.is_file() and zipfile.is_zipfile(path):
            temporary = Path(tempfile.mkdtemp(prefix="hujjat-telegram-", dir=workdir))
            skipped = extract_zip(path, temporary, limits or ExportLimits())
            result = find_result(temporary)
        else:
            result = find_result(path)
        root = result.parent.resolve()
        scanned, repaired, repairs = _validate(result)
        single = "messages" in scanned.root_keys
        if "chats" in scanned.root_keys and any(group == "chats" for group, _ in scanned.messages):
            repairs.append("chats written as a bare list (not Telegram Desktop's layout): read anyway")
        chats: dict[Slot, ChatInfo] = {}
        for slot in sorted(set(scanned.chats) | set(scanned.messages)):
            info, note = _chat_info(scanned.chats.get(slot, {}), usernames or {}, single)
            chats[slot] = info
            if note:
                repairs.append(note)
    except BaseException:
        if temporary is not None:
            remove_tree(temporary)
        raise
    return TelegramExport(
        original=original,
        result_path=result,
        root=root,
        repaired=repaired,
        scanned=scanned,
        chats=chats,
        utc_offset=utc_offset,
        repairs=repairs,
        skipped_entries=skipped,
        temporary=temporary,
    )
