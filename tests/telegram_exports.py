"""Small Telegram Desktop exports in the real format (shared/design/telegram-export-format.md),
written by the tests: one builder per variant, plus raw texts of the known-broken ones."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

PLACEHOLDER = "(File not included. Change data exporting settings to download.)"
TOO_BIG = "(File exceeds maximum size. Change data exporting settings to download.)"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
OGG = b"OggS" + b"\x00" * 60


def write_export(folder: Path, root: dict[str, Any], files: dict[str, bytes] | None = None) -> Path:
    """Write result.json the way the exporter does (one key per line, raw UTF-8) and media files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps(root, indent=1, ensure_ascii=False), encoding="utf-8")
    for name, data in (files or {}).items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


def message(mid: int, text: Any = "", *, unix: int | None = None, **fields: Any) -> dict[str, Any]:
    unix = unix if unix is not None else 1700000000 + mid * 60
    local = _local(unix)
    out: dict[str, Any] = {"id": mid, "type": "message", "date": local, "date_unixtime": str(unix)}
    out.update(fields)
    out["text"] = text
    out["text_entities"] = _entities(text)
    return out


def _local(unix: int, offset_hours: int = 3) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.fromtimestamp(unix, UTC) + timedelta(hours=offset_hours)).replace(tzinfo=None).isoformat()


def _entities(text: Any) -> list[dict[str, Any]]:
    if isinstance(text, str):
        return [{"type": "plain", "text": text}] if text else []
    return [part if isinstance(part, dict) else {"type": "plain", "text": part} for part in text]


def service(mid: int, action: str, **fields: Any) -> dict[str, Any]:
    unix = 1700000000 + mid * 60
    out: dict[str, Any] = {"id": mid, "type": "service", "date": _local(unix), "date_unixtime": str(unix)}
    out.update({"actor": "Raid Watch", "actor_id": "channel1292077344", "action": action})
    out.update(fields)
    out["text"] = ""
    out["text_entities"] = []
    return out


def channel_messages(edited: bool = False, extra: bool = False) -> list[dict[str, Any]]:
    sender = {"from": "Raid Watch", "from_id": "channel1292077344"}
    second_text: list[Any] = [
        "Raid reported in ",
        {"type": "hashtag", "text": "#Kherson"},
        " — details ",
        {"type": "text_link", "text": "here", "href": "https://example.org/report"},
    ]
    second: dict[str, Any] = message(
        2, second_text, photo="photos/photo_1@14-11-2023_22-15-00.jpg", width=640, height=480,
        reactions=[{"type": "emoji", "count": 5, "emoji": "😢"}], **sender,
    )  # fmt: skip
    if edited:
        second = message(
            2, ["Raid CONFIRMED in ", {"type": "hashtag", "text": "#Kherson"}],
            photo="photos/photo_7@14-11-2023_22-15-00.jpg", width=640, height=480,
            edited="2023-11-15T09:00:00", edited_unixtime="1700028000", **sender,
        )  # fmt: skip
    messages = [
        service(1, "create_channel", title="Raid Watch"),
        second,
        message(
            3, "Video from the checkpoint", file=PLACEHOLDER, file_size=73400320, media_type="video_file",
            mime_type="video/mp4", duration_seconds=42, width=1280, height=720, **sender,
        ),
        message(4, "Voice note", file="voice_messages/audio_1@14-11-2023_22-18-00.ogg", media_type="voice_message",
                mime_type="audio/ogg", duration_seconds=3, **sender),
        message(5, "Lost file", file="files/gone.pdf", file_name="gone.pdf", mime_type="application/pdf", **sender),
        message(6, "Forwarded", forwarded_from="Kherson Today", reply_to_message_id=2, **sender),
        service(7, "pin_message", message_id=2),
        message(8, "Escape attempt 1", file="../../etc/passwd", **sender),
        message(9, "Escape attempt 2", file="/etc/passwd", **sender),
        message(10, "Thumb only", file=TOO_BIG, thumbnail="files/clip.mp4_thumb.jpg", media_type="video_file", **sender),
    ]
    if extra:
        messages.append(message(11, "A later post", **sender))
    return messages


def channel_files() -> dict[str, bytes]:
    return {
        "photos/photo_1@14-11-2023_22-15-00.jpg": JPEG,
        "photos/photo_7@14-11-2023_22-15-00.jpg": JPEG,
        "voice_messages/audio_1@14-11-2023_22-18-00.ogg": OGG,
        "files/clip.mp4_thumb.jpg": JPEG + b"thumb",
    }


def channel_export(folder: Path, *, edited: bool = False, extra: bool = False) -> Path:
    root = {"name": "Raid Watch", "type": "public_channel", "id": 1292077344, "messages": channel_messages(edited, extra)}
    return write_export(folder, root, channel_files())


def account_export(folder: Path) -> Path:
    chat_a = {"name": "Alice", "type": "personal_chat", "id": 4242, "messages": [
        message(1, "hi", **{"from": "Alice", "from_id": "user4242"}),
        message(2, "photo", photo=PLACEHOLDER, **{"from": "Alice", "from_id": "user4242"}),
    ]}  # fmt: skip
    group = {"name": "Monitors", "type": "private_supergroup", "id": 1500000000, "messages": [
        message(1, "first", **{"from": "Bob", "from_id": "user7"}),
        service(2, "invite_members", members=["Carol"]),
    ]}  # fmt: skip
    left = {"name": "Old group", "type": "private_group", "id": 555, "messages": [message(9, "bye")]}
    root = {
        "about": "Here is the data you requested. Remember: Telegram is ad free, it doesn't use your data for ad targeting and doesn't sell it to others.",
        "personal_information": {"user_id": 1, "first_name": "Me", "phone_number": "+000"},
        "contacts": {"about": "…", "list": []},
        "chats": {"about": "This page lists all chats from this export.", "list": [chat_a, group]},
        "left_chats": {"about": "This page lists all supergroups and channels you left.", "list": [left]},
    }
    return write_export(folder, root)


# Exporter 2020 (v2.x): no date_unixtime, numeric from_id, channel id with the 2^33 offset.
LEGACY_2020 = {
    "name": "Raid Watch",
    "type": "public_channel",
    "id": 9882011936,
    "messages": [
        {"id": 2, "type": "message", "date": "2020-05-01T12:00:00", "from": "Raid Watch",
         "from_id": 9882011936, "text": "Old post"},
    ],
}  # fmt: skip

# tdesktop 4.1.1 (2022-08): unquoted document_id, and a control character written as \x01.
BROKEN_2022 = r"""{
 "name": "Raid Watch",
 "type": "public_channel",
 "id": 1292077344,
 "messages": [
  {
   "id": 20,
   "type": "message",
   "date": "2022-08-20T10:00:00",
   "date_unixtime": "1660978800",
   "from": "Raid Watch",
   "from_id": "channel1292077344",
   "text": [
    "Sticker ",
    {
     "type": "custom_emoji",
     "text": "🔥",
     "document_id": video_files/sticker (2).webm
    }
   ],
   "text_entities": [
    {
     "type": "plain",
     "text": "Sticker "
    },
    {
     "type": "custom_emoji",
     "text": "🔥",
     "document_id": video_files/sticker (2).webm
    }
   ]
  },
  {
   "id": 21,
   "type": "message",
   "date": "2022-08-20T10:01:00",
   "date_unixtime": "1660978860",
   "from": "Raid Watch",
   "from_id": "channel1292077344",
   "text": "bell\x07 and tab\t",
   "text_entities": [
    {
     "type": "plain",
     "text": "bell\x07 and tab\t"
    }
   ]
  }
 ]
}
"""

# tdesktop 5.9 (2024-12): star-gift service message with "text" written twice.
DUPLICATE_KEYS = """{
 "name": "Alice",
 "type": "personal_chat",
 "id": 4242,
 "messages": [
  {
   "id": 30,
   "type": "service",
   "date": "2024-12-20T10:00:00",
   "date_unixtime": "1734688800",
   "actor": "Alice",
   "actor_id": "user4242",
   "action": "send_star_gift",
   "gift_id": 5170145012310081615,
   "stars": 15,
   "text": "Gift message text",
   "text": "",
   "text_entities": []
  }
 ]
}
"""


def write_raw(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(text, encoding="utf-8")
    return folder


def zip_folder(folder: Path, target: Path, prefix: str = "ChatExport_2023-11-15/") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return target
