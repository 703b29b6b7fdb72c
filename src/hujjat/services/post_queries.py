"""Read-side use cases for posts: the list, and one post's full record (versions, media, custody)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hujjat.domain.errors import NotFound, UsageError
from hujjat.domain.posts import Post, PostMedia, PostVersion
from hujjat.services.context import ArchivePorts


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def post_summary(post: Post) -> dict[str, Any]:
    r = post.record
    return {
        "id": post.id,
        "kind": "post",
        "post_kind": r.kind.value,
        "chat": {"key": r.chat.key, "id": r.chat.raw_id, "name": r.chat.name, "type": r.chat.type, "username": r.chat.username},
        "message_id": r.message_id,
        "date": _iso(r.date_utc) or r.date_local,
        "date_utc": _iso(r.date_utc),
        "date_local": r.date_local,
        "from": r.from_name,
        "text": r.text,
        "public_link": r.public_link,
        "version": post.version,
        "sensitivity": post.sensitivity.value,
    }


def iter_post_summaries(ports: ArchivePorts) -> Iterator[dict[str, Any]]:
    with ports.uow(read_only=True) as tx:
        for post in tx.posts.iter_posts():
            yield post_summary(post)


def _media_view(row: PostMedia) -> dict[str, Any]:
    return {
        "role": row.role,
        "status": row.status.value,
        "item_id": row.item_id,
        "sha256": row.sha256,
        "size": row.size,
        "reason": row.reason,
        "path": row.ref.path,
        "placeholder": row.ref.placeholder,
        "media_type": row.ref.media_type,
        "mime_type": row.ref.mime_type,
        "file_name": row.ref.file_name,
        "declared_size": row.ref.declared_size,
        "width": row.ref.width,
        "height": row.ref.height,
        "duration_seconds": row.ref.duration_seconds,
    }


def _version_view(v: PostVersion) -> dict[str, Any]:
    return {
        "version": v.version,
        "text": v.text,
        "entities": v.entities,
        "content_hash": v.content_hash,
        "edited_utc": _iso(v.edited_utc),
        "edited_local": v.edited_local,
        "source_export": v.source_export,
        "json_path": v.json_path,
        "recorded_at": _iso(v.recorded_at),
    }


def post_detail(ports: ArchivePorts, reference: str, custody: bool = True) -> dict[str, Any]:
    """`custody=False`: without the custody trail (the web pages and API read it in pages)."""
    with ports.uow(read_only=True) as tx:
        post = tx.posts.resolve(reference)
        r = post.record
        detail = post_summary(post)
        detail.update(
            {
                "from_id": r.from_id,
                "signature": r.signature,
                "edited_utc": _iso(r.edited_utc),
                "edited_local": r.edited_local,
                "forwarded_from": r.forwarded_from,
                "saved_from": r.saved_from,
                "reply_to_message_id": r.reply_to_message_id,
                "reply_to_peer_id": r.reply_to_peer_id,
                "via_bot": r.via_bot,
                "action": r.action,
                "entities": list(r.entities),
                "reactions": r.reactions,
                "views": r.views,
                "extra": r.extra,
                "repairs": list(r.repairs),
                "source_export": {"sha256": post.source_export, "item_id": post.source_item_id, "json_path": r.json_path},
                "json_path": r.json_path,
                "created_at": _iso(post.created_at),
                "media": [_media_view(m) for m in tx.posts.media(post.id)],
                "versions": [_version_view(v) for v in tx.posts.versions(post.id)],
            }
        )
        if custody:
            subjects = [post.id] + [s for s in [tx.posts.custody_batch(post.id)] if s]
            detail["custody"] = [
                {"seq": e.seq, "time": e.time, "actor": e.actor, "action": e.action, "subject": e.subject}
                for e in tx.custody.entries_for(subjects)
            ]
    return detail


def find_post(ports: ArchivePorts, reference: str) -> dict[str, Any] | None:
    """The post's detail, or None when nothing (or something ambiguous) matches: lets `show`
    fall back to posts when the reference is not an item."""
    try:
        return post_detail(ports, reference)
    except (NotFound, UsageError):
        return None
