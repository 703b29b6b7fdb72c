"""SQL repository for chats, posts, post versions and post media (see posts_tables).

Writes come in batches (one executemany per table per batch of posts) because exports hold
hundreds of thousands of messages. Media rows are inserted only when their dedup_key is new, so
re-running an import never doubles a link.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.bulk import insert_many
from hujjat.adapters.db.posts_tables import chats, post_media, post_versions, posts
from hujjat.domain.errors import Ambiguous, NotFound, UsageError
from hujjat.domain.evidence import Sensitivity
from hujjat.domain.posts import (
    ChatInfo,
    MediaRef,
    MediaStatus,
    Post,
    PostKind,
    PostMedia,
    PostRecord,
    PostVersion,
)
from hujjat.ports.posts import PostState

MIN_PREFIX = 4
_IN_CHUNK = 500


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _current_values(record: PostRecord) -> dict[str, Any]:
    return {
        "edited_utc": record.edited_utc,
        "edited_local": record.edited_local,
        "text": record.text,
        "entities": list(record.entities),
        "extra": record.extra,
        "json_path": record.json_path,
        "content_hash": record.content_hash(),
    }


class SqlPostRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def ensure_chat(self, chat: ChatInfo, at: datetime) -> None:
        row = self.conn.execute(sa.select(chats.c.username).where(chats.c.key == chat.key)).first()
        if row is None:
            self.conn.execute(
                chats.insert().values(
                    key=chat.key, raw_id=chat.raw_id, name=chat.name, type=chat.type, username=chat.username,
                    first_seen=at,
                )
            )  # fmt: skip
        elif row.username is None and chat.username:
            self.conn.execute(chats.update().where(chats.c.key == chat.key).values(username=chat.username))

    def find(self, chat_key: str, message_ids: list[int]) -> dict[int, PostState]:
        found: dict[int, PostState] = {}
        for start in range(0, len(message_ids), _IN_CHUNK):
            part = message_ids[start : start + _IN_CHUNK]
            query = sa.select(
                posts.c.message_id, posts.c.id, posts.c.content_hash, posts.c.version, posts.c.views, posts.c.reactions
            ).where(posts.c.chat_key == chat_key, posts.c.message_id.in_(part))
            for message_id, post_id, digest, version, views, reactions in self.conn.execute(query):
                found[int(message_id)] = PostState(post_id, digest, int(version), views, _json(reactions))
        return found

    def add_posts(self, new: list[Post], batch: str) -> None:
        if not new:
            return
        rows = []
        for post in new:
            r = post.record
            rows.append(
                {
                    "id": post.id, "chat_key": r.chat.key, "message_id": r.message_id, "kind": r.kind.value,
                    "date_utc": r.date_utc, "date_local": r.date_local, "from_name": r.from_name,
                    "from_id": r.from_id, "signature": r.signature, "forwarded_from": r.forwarded_from,
                    "saved_from": r.saved_from, "reply_to_message_id": r.reply_to_message_id,
                    "reply_to_peer_id": r.reply_to_peer_id, "via_bot": r.via_bot, "action": r.action,
                    "reactions": r.reactions, "views": r.views, "repairs": list(r.repairs),
                    "version": post.version, "source_export": post.source_export,
                    "source_item_id": post.source_item_id, "custody_batch": batch, "created_at": post.created_at,
                    "sensitivity": post.sensitivity.value,
                    **_current_values(r),
                }
            )  # fmt: skip
        insert_many(self.conn, posts, rows)

    def add_versions(self, versions: list[PostVersion]) -> None:
        if versions:
            insert_many(self.conn, post_versions, [v.__dict__ for v in versions])

    def set_current(self, post_id: str, record: PostRecord, version: int) -> None:
        self.conn.execute(
            posts.update().where(posts.c.id == post_id).values(version=version, **_current_values(record))
        )

    def set_observations(self, post_id: str, views: int | None, reactions: Any) -> None:
        self.conn.execute(posts.update().where(posts.c.id == post_id).values(views=views, reactions=reactions))

    def stored_media(self, post_ids: list[str]) -> dict[str, dict[str, str]]:
        stored: dict[str, dict[str, str]] = {}
        for start in range(0, len(post_ids), _IN_CHUNK):
            query = sa.select(post_media.c.post_id, post_media.c.role, post_media.c.item_id).where(
                post_media.c.post_id.in_(post_ids[start : start + _IN_CHUNK]),
                post_media.c.status == MediaStatus.STORED.value,
            )
            for post_id, role, item_id in self.conn.execute(query):
                stored.setdefault(post_id, {})[role] = item_id
        return stored

    def add_media(self, rows: list[PostMedia], at: datetime) -> list[PostMedia]:
        wanted = {m.dedup_key(): m for m in rows}
        if not wanted:
            return []
        known: set[str] = set()
        keys = list(wanted)
        for start in range(0, len(keys), _IN_CHUNK):
            query = sa.select(post_media.c.dedup_key).where(post_media.c.dedup_key.in_(keys[start : start + _IN_CHUNK]))
            known.update(k for (k,) in self.conn.execute(query))
        fresh = [m for key, m in wanted.items() if key not in known]
        if fresh:
            insert_many(
                self.conn,
                post_media,
                [
                    {
                        "post_id": m.post_id, "role": m.role, "status": m.status.value, "item_id": m.item_id,
                        "sha256": m.sha256, "size": m.size, "reason": m.reason, "ref": m.ref.__dict__,
                        "recorded_at": at, "dedup_key": m.dedup_key(),
                    }
                    for m in fresh
                ],
            )  # fmt: skip
        return fresh

    def _post(self, row: Any) -> Post:
        chat = ChatInfo(key=row.chat_key, raw_id=row.raw_id, name=row.name, type=row.type, username=row.username)
        record = PostRecord(
            chat=chat, message_id=int(row.message_id), kind=PostKind(row.kind), json_path=row.json_path,
            date_utc=_aware(row.date_utc), date_local=row.date_local, edited_utc=_aware(row.edited_utc),
            edited_local=row.edited_local, from_name=row.from_name, from_id=row.from_id,
            signature=row.signature, forwarded_from=row.forwarded_from, saved_from=row.saved_from,
            reply_to_message_id=row.reply_to_message_id, reply_to_peer_id=row.reply_to_peer_id,
            via_bot=row.via_bot, action=row.action, text=row.text, entities=tuple(_json(row.entities)),
            reactions=_json(row.reactions), views=row.views, extra=_json(row.extra),
            repairs=tuple(_json(row.repairs)),
        )  # fmt: skip
        return Post(
            id=row.id,
            record=record,
            version=int(row.version),
            source_export=row.source_export,
            source_item_id=row.source_item_id,
            created_at=_aware(row.created_at) or datetime.now(UTC),
            sensitivity=Sensitivity(row.sensitivity),
        )

    def _select(self) -> sa.Select[Any]:
        return sa.select(posts, chats.c.raw_id, chats.c.name, chats.c.type, chats.c.username).join(
            chats, chats.c.key == posts.c.chat_key
        )

    def resolve(self, reference: str) -> Post:
        ref = reference.strip()
        if not ref:
            raise UsageError("a post reference is empty")
        chat_key, _, message = ref.rpartition("/")
        if chat_key and message.isdigit():
            condition = sa.and_(posts.c.chat_key == chat_key, posts.c.message_id == int(message))
        elif len(ref) == 26:
            condition = posts.c.id == ref.upper()
        elif len(ref) >= MIN_PREFIX:
            condition = posts.c.id.like(ref.upper() + "%")
        else:
            raise UsageError(f"post reference {ref!r} is too short: give at least {MIN_PREFIX} characters")
        rows = self.conn.execute(self._select().where(condition).limit(2)).all()
        if not rows:
            raise NotFound(f"no post matches {ref!r}")
        if len(rows) > 1:
            raise Ambiguous(f"{ref!r} matches more than one post: give more characters")
        return self._post(rows[0])

    def versions(self, post_id: str) -> list[PostVersion]:
        query = sa.select(post_versions).where(post_versions.c.post_id == post_id).order_by(post_versions.c.version)
        return [
            PostVersion(
                post_id=r.post_id, version=int(r.version), text=r.text, entities=_json(r.entities),
                content_hash=r.content_hash, edited_utc=_aware(r.edited_utc), edited_local=r.edited_local,
                source_export=r.source_export, json_path=r.json_path,
                recorded_at=_aware(r.recorded_at) or datetime.now(UTC),
            )
            for r in self.conn.execute(query)
        ]  # fmt: skip

    def media(self, post_id: str) -> list[PostMedia]:
        query = sa.select(post_media).where(post_media.c.post_id == post_id).order_by(post_media.c.id)
        return [
            PostMedia(
                post_id=r.post_id, role=r.role, status=MediaStatus(r.status), ref=MediaRef(**_json(r.ref)),
                item_id=r.item_id, sha256=r.sha256, size=r.size, reason=r.reason,
            )
            for r in self.conn.execute(query)
        ]  # fmt: skip

    def iter_posts(self) -> Iterator[Post]:
        query = self._select().order_by(posts.c.chat_key, posts.c.message_id)
        for row in self.conn.execute(query, execution_options={"yield_per": 1000}):
            yield self._post(row)

    def page(self, levels: tuple[str, ...], offset: int, limit: int) -> tuple[list[Post], int]:
        conditions: list[Any] = []
        counting: list[Any] = []
        if levels:
            # The count goes through ix_posts_sensitivity; the page must not (SQLite would sort every
            # visible post instead of reading the primary key newest first), hence `|| ''`.
            level = posts.c.sensitivity.concat("") if self.conn.dialect.name == "sqlite" else posts.c.sensitivity
            conditions.append(level.in_(levels))
            counting.append(posts.c.sensitivity.in_(levels))
        query = self._select().where(*conditions).order_by(posts.c.id.desc()).offset(offset).limit(limit)
        found = [self._post(row) for row in self.conn.execute(query)]
        total = self.conn.execute(sa.select(sa.func.count()).select_from(posts).where(*counting)).scalar_one()
        return found, int(total)

    def custody_batch(self, post_id: str) -> str | None:
        value = self.conn.execute(sa.select(posts.c.custody_batch).where(posts.c.id == post_id)).scalar()
        return str(value) if value else None

    def count(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(posts)).scalar_one())
