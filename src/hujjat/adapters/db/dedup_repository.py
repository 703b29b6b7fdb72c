"""SQL repository for fingerprints, frame hashes and recorded near-duplicate matches."""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.dedup_tables import fingerprint_hashes, fingerprints, near_duplicate_matches
from hujjat.adapters.db.tables import items
from hujjat.domain.near_duplicates import STATUS_OK, Fingerprint, FrameHash, NearMatch
from hujjat.ports.fingerprints import MediaRef

# post_media and posts as reflected once per engine: reflecting them on every call cost an
# evidence detail page with near-duplicates several statements. Only found tables are kept, so a
# feature installed later is still seen.
_post_tables: weakref.WeakKeyDictionary[sa.Engine, tuple[sa.Table, sa.Table]] = weakref.WeakKeyDictionary()

CHUNK = 500
MEDIA_PREFIXES = ("image/", "video/")


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _media_filter() -> sa.ColumnElement[bool]:
    return sa.or_(*(items.c.media_type.like(prefix + "%") for prefix in MEDIA_PREFIXES))


def _match(row: Any) -> NearMatch:
    frames = row.frames if isinstance(row.frames, list) else json.loads(row.frames)
    return NearMatch(
        row.item_id,
        row.other_id,
        row.kind,
        int(row.distance),
        int(row.percent),
        tuple((int(a), int(b), int(c)) for a, b, c in frames),
    )


class SqlFingerprintRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def save(self, item_id: str, fingerprint: Fingerprint, at: datetime) -> None:
        self.save_many([(item_id, fingerprint)], at)

    def save_many(self, entries: Sequence[tuple[str, Fingerprint]], at: datetime) -> None:
        """Four statements for a batch (an import's media), not four per item."""
        if not entries:
            return
        ids = list(dict.fromkeys(item_id for item_id, _ in entries))
        for part in _chunks(ids):
            self.conn.execute(fingerprint_hashes.delete().where(fingerprint_hashes.c.item_id.in_(part)))
            self.conn.execute(fingerprints.delete().where(fingerprints.c.item_id.in_(part)))
        latest = dict(entries)  # an item given twice: its last fingerprint, as one save after another
        self.conn.execute(
            fingerprints.insert(),
            [
                {
                    "item_id": item_id, "kind": f.kind, "status": f.status, "algorithm": f.algorithm,
                    "reason": f.reason, "quality": f.quality, "frames": len(f.frames),
                    "duration_ms": f.duration_ms, "computed_at": at,
                }
                for item_id, f in latest.items()
            ],
        )  # fmt: skip
        hashes = [
            {
                "item_id": item_id, "frame": h.frame, "timestamp_ms": h.timestamp_ms, "quality": h.quality,
                "hash": h.hash, "flipped": h.flipped, "center": h.center, "center_flipped": h.center_flipped,
            }
            for item_id, f in latest.items()
            for h in f.frames
        ]  # fmt: skip
        if hashes:
            self.conn.execute(fingerprint_hashes.insert(), hashes)

    def get_many(self, item_ids: Sequence[str]) -> dict[str, Fingerprint]:
        ids = list(dict.fromkeys(item_ids))
        frames: dict[str, list[FrameHash]] = {}
        heads: dict[str, Any] = {}
        for part in _chunks(ids):
            for row in self.conn.execute(sa.select(fingerprints).where(fingerprints.c.item_id.in_(part))):
                heads[row.item_id] = row
            query = (
                sa.select(fingerprint_hashes)
                .where(fingerprint_hashes.c.item_id.in_(part))
                .order_by(fingerprint_hashes.c.item_id, fingerprint_hashes.c.frame)
            )
            for r in self.conn.execute(query):
                frames.setdefault(r.item_id, []).append(
                    FrameHash(
                        int(r.frame),
                        int(r.timestamp_ms),
                        int(r.quality),
                        r.hash,
                        r.flipped,
                        r.center,
                        r.center_flipped,
                    )
                )
        return {
            item_id: Fingerprint(
                kind=row.kind,
                status=row.status,
                algorithm=row.algorithm,
                frames=tuple(frames.get(item_id, ())),
                reason=row.reason,
                duration_ms=row.duration_ms,
            )
            for item_id, row in heads.items()
        }

    def owners(self, keys: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        by_row: dict[int, list[int]] = {}
        for key in keys:
            by_row.setdefault(key // 2, []).append(key)
        for part in _chunks(list(by_row)):
            query = sa.select(fingerprint_hashes.c.id, fingerprint_hashes.c.item_id).where(
                fingerprint_hashes.c.id.in_(part)
            )
            for row_id, item in self.conn.execute(query):
                out.update(dict.fromkeys(by_row[int(row_id)], item))
        return out

    def _indexable(self, min_quality: int) -> sa.ColumnElement[bool]:
        """Correlated, so a range of new rows costs a lookup each: `item_id IN (SELECT ... all OK
        items)` made SQLite build the whole set for every incremental sync (quadratic over an
        import, most of a Telegram import's time)."""
        ok = sa.exists().where(fingerprints.c.item_id == fingerprint_hashes.c.item_id, fingerprints.c.status == STATUS_OK)
        return sa.and_(fingerprint_hashes.c.quality >= min_quality, ok)

    def iter_hashes(self, after_key: int, min_quality: int) -> Iterator[tuple[int, str]]:
        for key, _, digest, _ in self.iter_frames(min_quality, after_key):
            yield key, digest

    def iter_frames(self, min_quality: int, after_key: int = -1) -> Iterator[tuple[int, str, str, str]]:
        """Index keys: 2*id for the whole picture, 2*id+1 for its centre (where kept)."""
        query = (
            sa.select(
                fingerprint_hashes.c.id,
                fingerprint_hashes.c.item_id,
                fingerprint_hashes.c.hash,
                fingerprint_hashes.c.flipped,
                fingerprint_hashes.c.center,
                fingerprint_hashes.c.center_flipped,
            )
            .where(fingerprint_hashes.c.id >= (after_key + 1) // 2, self._indexable(min_quality))
            .order_by(fingerprint_hashes.c.id)
        )
        for row in self.conn.execute(query, execution_options={"yield_per": 10000}):
            row_id = int(row.id)
            if 2 * row_id > after_key:
                yield 2 * row_id, row.item_id, row.hash, row.flipped
            if row.center and row.center_flipped and 2 * row_id + 1 > after_key:
                yield 2 * row_id + 1, row.item_id, row.center, row.center_flipped

    def _reflect_post_tables(self) -> tuple[sa.Table, sa.Table] | None:
        inspector = sa.inspect(self.conn)
        if not (inspector.has_table("post_media") and inspector.has_table("posts")):
            return None
        media = sa.Table("post_media", sa.MetaData(), autoload_with=self.conn)
        posts = sa.Table("posts", sa.MetaData(), autoload_with=self.conn)
        needed = {"item_id", "post_id"} <= set(media.c.keys()) and {
            "id",
            "chat_key",
            "message_id",
            "date_utc",
        } <= set(posts.c.keys())
        if not needed:
            return None
        _post_tables[self.conn.engine] = (media, posts)
        return media, posts

    def post_appearances(self, item_ids: Sequence[str]) -> dict[str, list[tuple[str, int, datetime | None]]]:
        """(chat, message id, post date) of posts carrying each item, when the posts feature is
        installed; read defensively by reflection so this module does not depend on it."""
        tables = _post_tables.get(self.conn.engine) or self._reflect_post_tables()
        if tables is None:
            return {}
        media, posts = tables
        out: dict[str, list[tuple[str, int, datetime | None]]] = {}
        for part in _chunks(list(dict.fromkeys(item_ids))):
            query = (
                sa.select(media.c.item_id, posts.c.chat_key, posts.c.message_id, posts.c.date_utc)
                .join(posts, posts.c.id == media.c.post_id)
                .where(media.c.item_id.in_(part))
            )
            for item_id, chat, message, date in self.conn.execute(query):
                if date is not None and date.tzinfo is None:
                    date = date.replace(tzinfo=UTC)
                out.setdefault(item_id, []).append((str(chat), int(message), date))
        return out

    def hash_stats(self, min_quality: int) -> tuple[int, int]:
        has_centre = sa.case((fingerprint_hashes.c.center.is_(None), 0), else_=1)
        query = sa.select(
            sa.func.count() + sa.func.coalesce(sa.func.sum(has_centre), 0),
            sa.func.max(fingerprint_hashes.c.id * 2 + has_centre),
        ).where(self._indexable(min_quality))
        count, top = self.conn.execute(query).one()
        return int(count or 0), int(top or 0)

    def unfingerprinted(self, everything: bool = False) -> list[MediaRef]:
        done = sa.select(fingerprints.c.item_id)
        query = (
            sa.select(items.c.id, items.c.sha256, items.c.media_type)
            .where(_media_filter())
            .order_by(items.c.id)
        )
        if not everything:
            query = query.where(items.c.id.not_in(done))
        return [MediaRef(*row) for row in self.conn.execute(query)]

    def problems(self) -> list[tuple[MediaRef, str, str]]:
        query = (
            sa.select(
                items.c.id, items.c.sha256, items.c.media_type, fingerprints.c.status, fingerprints.c.reason
            )
            .join(fingerprints, fingerprints.c.item_id == items.c.id)
            .where(fingerprints.c.status != STATUS_OK)
            .order_by(items.c.id)
        )
        return [
            (MediaRef(i, s, m), status, reason or "") for i, s, m, status, reason in self.conn.execute(query)
        ]

    def add_match(self, match: NearMatch, via: str, at: datetime) -> bool:
        pair = sa.or_(
            sa.and_(
                near_duplicate_matches.c.item_id == match.item_id,
                near_duplicate_matches.c.other_id == match.other_id,
            ),
            sa.and_(
                near_duplicate_matches.c.item_id == match.other_id,
                near_duplicate_matches.c.other_id == match.item_id,
            ),
        )
        if self.conn.execute(sa.select(near_duplicate_matches.c.id).where(pair)).first():
            return False
        self.conn.execute(
            near_duplicate_matches.insert().values(
                item_id=match.item_id,
                other_id=match.other_id,
                kind=match.kind,
                distance=match.distance,
                percent=match.percent,
                frames=[list(f) for f in match.frames],
                via=via,
                found_at=at,
            )
        )
        return True

    def iter_match_pairs(self) -> Iterator[tuple[str, str]]:
        query = sa.select(near_duplicate_matches.c.item_id, near_duplicate_matches.c.other_id)
        for row in self.conn.execute(query, execution_options={"yield_per": 10000}):
            yield str(row.item_id), str(row.other_id)

    def matches_for(self, item_id: str) -> list[NearMatch]:
        query = (
            sa.select(near_duplicate_matches)
            .where(
                sa.or_(
                    near_duplicate_matches.c.item_id == item_id, near_duplicate_matches.c.other_id == item_id
                )
            )
            .order_by(near_duplicate_matches.c.id)
        )
        return [_match(row) for row in self.conn.execute(query)]
