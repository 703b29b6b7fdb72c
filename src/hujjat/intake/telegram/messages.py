"""One exported message (a dict) -> PostRecord, and the chat identity rules.

Field names and their history are in shared/design/telegram-export-format.md. Keys the importer
does not interpret (polls, locations, contacts, buttons, unknown future fields) are kept under
`extra`, cleaned of floats, so nothing the export said is lost.

Chat keys: exporters up to v2.7.x wrote internal peer ids with a type offset (2^32 for basic
groups, 2^33 for channels and supergroups; the same channel is 9882011936 in a 2020 export and
1292077344 in 2021). `chat_key` removes the offset, so both exports land on `channel1292077344`.
Old `from_id` numbers are normalised the same way to the `user…`/`chat…`/`channel…` form.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hujjat.domain.posts import ChatInfo, MediaRef, PostKind, PostRecord, SkippedMessage
from hujjat.intake.telegram.text import clean, flatten_text

CHAT_SHIFT = 1 << 32
CHANNEL_SHIFT = 1 << 33
CHANNEL_TYPES = frozenset({"public_channel", "private_channel", "public_supergroup", "private_supergroup"})
GROUP_TYPES = frozenset({"private_group"})

PLACEHOLDER_PREFIXES = ("(File ", "(Photo ")

_HANDLED = frozenset(
    {
        "id", "type", "date", "date_unixtime", "edited", "edited_unixtime", "from", "from_id", "author",
        "forwarded_from", "saved_from", "reply_to_message_id", "reply_to_peer_id", "via_bot", "text",
        "text_entities", "reactions", "views", "action", "actor", "actor_id", "photo", "photo_file_size",
        "file", "file_name", "file_size", "thumbnail", "thumbnail_file_size", "media_type", "mime_type",
        "duration_seconds", "width", "height", "contact_vcard", "contact_vcard_file_size",
    }
)  # fmt: skip


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(clean(value))


def chat_key(raw_id: Any, chat_type: str, name: str | None) -> tuple[str, int | None, str | None]:
    """(stable key, normalised id, repair note or None) for a chat."""
    number = _int(raw_id)
    if number is None:
        label = name or "unnamed"
        return f"{chat_type or 'chat'}:noid:{label}", None, None
    note = None
    if chat_type in CHANNEL_TYPES:
        if CHANNEL_SHIFT <= number < CHANNEL_SHIFT + CHAT_SHIFT:
            note = f"chat id {number} written by an old exporter (offset 2^33) read as {number - CHANNEL_SHIFT}"
            number -= CHANNEL_SHIFT
        return f"channel{number}", number, note
    if chat_type in GROUP_TYPES:
        if CHAT_SHIFT <= number < CHANNEL_SHIFT:
            note = f"chat id {number} written by an old exporter (offset 2^32) read as {number - CHAT_SHIFT}"
            number -= CHAT_SHIFT
        return f"chat{number}", number, note
    return f"user{number}", number, None


def peer_id(value: Any) -> tuple[str | None, bool]:
    """(`user…`/`chat…`/`channel…` id, whether a bare legacy number was normalised)."""
    if value is None:
        return None, False
    if isinstance(value, str) and not value.strip().isdigit():
        return value, False
    number = _int(value)
    if number is None:
        return _str(value), False
    if CHANNEL_SHIFT <= number < CHANNEL_SHIFT + CHAT_SHIFT:
        return f"channel{number - CHANNEL_SHIFT}", True
    if CHAT_SHIFT <= number < CHANNEL_SHIFT:
        return f"chat{number - CHAT_SHIFT}", True
    return f"user{number}", True


def _moment(local: Any, unixtime: Any, offset: timedelta | None) -> tuple[datetime | None, str | None]:
    """(UTC time, local text): from `*_unixtime` when present, else local text minus a known offset."""
    text = _str(local)
    seconds = _int(unixtime)
    if seconds is not None:
        return datetime.fromtimestamp(seconds, UTC), text
    if text and offset is not None:
        try:
            naive = datetime.fromisoformat(text)
        except ValueError:
            return None, text
        if naive.tzinfo is None:
            return (naive - offset).replace(tzinfo=UTC), text
        return naive.astimezone(UTC), text
    return None, text


def is_placeholder(value: str) -> bool:
    return value.startswith(PLACEHOLDER_PREFIXES) and value.endswith(")")


def _ref(role: str, value: Any, **fields: Any) -> MediaRef | None:
    path = _str(value)
    if not path:
        return None
    if is_placeholder(path):
        return MediaRef(role=role, path=None, placeholder=path, **fields)
    return MediaRef(role=role, path=path, **fields)


def media_refs(message: dict[str, Any]) -> list[MediaRef]:
    refs: list[MediaRef] = []
    dims = {"width": _int(message.get("width")), "height": _int(message.get("height"))}
    photo = _ref("photo", message.get("photo"), media_type="photo", declared_size=_int(message.get("photo_file_size")), **dims)
    document = _ref(
        "file",
        message.get("file"),
        media_type=_str(message.get("media_type")),
        mime_type=_str(message.get("mime_type")),
        file_name=_str(message.get("file_name")),
        declared_size=_int(message.get("file_size")),
        duration_seconds=_int(message.get("duration_seconds")),
        **dims,
    )
    thumb = _ref("thumbnail", message.get("thumbnail"), declared_size=_int(message.get("thumbnail_file_size")))
    vcard = _ref("contact_vcard", message.get("contact_vcard"), declared_size=_int(message.get("contact_vcard_file_size")))
    refs.extend(r for r in (photo, document, thumb, vcard) if r is not None)
    return refs


def to_record(
    message: dict[str, Any], chat: ChatInfo, json_path: str, offset: timedelta | None, repairs: list[str]
) -> PostRecord | SkippedMessage:
    message_id = _int(message.get("id"))
    if message_id is None:
        return SkippedMessage(json_path, f"message has no numeric id ({message.get('id')!r})")
    raw_type = _str(message.get("type")) or "message"
    kind = PostKind(raw_type) if raw_type in PostKind.__members__.values() else PostKind.UNSUPPORTED
    notes = list(repairs)
    date_utc, date_local = _moment(message.get("date"), message.get("date_unixtime"), offset)
    edited_utc, edited_local = _moment(message.get("edited"), message.get("edited_unixtime"), offset)
    sender = message.get("actor_id") if kind is PostKind.SERVICE and "actor_id" in message else message.get("from_id")
    from_id, legacy = peer_id(sender)
    if legacy:
        notes.append("legacy numeric from_id normalised")
    text, entities = flatten_text(message.get("text"), message.get("text_entities"))
    extra = {k: clean(v) for k, v in message.items() if k not in _HANDLED}
    if kind is PostKind.UNSUPPORTED and raw_type != "unsupported":
        extra["exported_type"] = raw_type
    reactions = message.get("reactions")
    return PostRecord(
        chat=chat,
        message_id=message_id,
        kind=kind,
        json_path=json_path,
        date_utc=date_utc,
        date_local=date_local,
        edited_utc=edited_utc,
        edited_local=edited_local,
        from_name=_str(message.get("actor") if kind is PostKind.SERVICE and "actor" in message else message.get("from")),
        from_id=from_id,
        signature=_str(message.get("author")),
        forwarded_from=_str(message.get("forwarded_from")),
        saved_from=_str(message.get("saved_from")),
        reply_to_message_id=_int(message.get("reply_to_message_id")),
        reply_to_peer_id=_str(message.get("reply_to_peer_id")),
        via_bot=_str(message.get("via_bot")),
        action=_str(message.get("action")),
        text=text,
        entities=tuple(entities),
        reactions=clean(reactions) if isinstance(reactions, list) else None,
        views=_int(message.get("views")),
        media=tuple(media_refs(message)),
        extra=extra,
        repairs=tuple(notes),
    )
