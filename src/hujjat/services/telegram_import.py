"""Importing a messaging export (Telegram Desktop): posts, their versions and media, with custody.

Order, for crash safety and speed:
1. The export's result.json is stored as evidence first (source_kind "telegram-export"), so every
   post can name the exact bytes it was read from (`source_export` = its SHA-256, plus the JSON
   path of the message).
2. Messages are taken in batches (default 500). For each batch one transaction adds the new posts
   (version 1), new versions of edited posts (the old text stays in post_versions), and custody
   entries: one `post.added` entry listing every post of the batch with its content hash (subject:
   the batch id each post row names), one `post.edited` entry per edit (subject: the post).
3. The batch's media go to worker threads at once (services.telegram_media: store the bytes, read
   metadata and fingerprints) and are recorded and linked (`post.media.linked`) after the next
   batch has been parsed, so the workers' I/O and CPU overlap the parsing and post writes.
4. The committed posts, and the evidence documents of the stored media, go to the `RecordIndexer`
   (search), which may work in another process; `import_export` returns only when it has indexed
   everything.
A run that dies between 2 and 3 is resumed by running it again: unchanged posts whose media were
never linked get them then. Nothing is counted twice: a re-run reports those posts unchanged.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from typing import Any, Protocol

from hujjat.domain.ids import new_id
from hujjat.domain.posts import MediaRef, Post, PostRecord, PostVersion, SkippedMessage
from hujjat.ports.posts import PostSource, PostState
from hujjat.services.context import ArchivePorts
from hujjat.services.intake import IntakeRequest, record_blob
from hujjat.services.search import refresh_records
from hujjat.services.telegram_media import Prepared, submit_media, write_media

BATCH = 500
PARALLEL_METADATA_MESSAGES = 1_000
"""From this many messages on (a tenth of them with media, typically), the media's metadata is read
in a child process (MetadataReader.parallel), off the recording thread's interpreter lock."""
EXPORT_KIND = "telegram-export"


class ImportObserver(Protocol):
    def planned(self, messages: int) -> None: ...

    def advance(self, messages: int) -> None: ...


class RecordIndexer(Protocol):
    """Keeps the search index in step with records this import committed. `refresh` may return
    before the work is done (another process); `finish` waits for all of it and raises what failed."""

    def refresh(self, kind: str, record_ids: list[str]) -> None: ...

    def finish(self) -> None: ...


@dataclass
class InlineIndexer:
    """Indexes at once, on the calling thread (services.search.refresh_records)."""

    ports: ArchivePorts

    def refresh(self, kind: str, record_ids: list[str]) -> None:
        refresh_records(self.ports, kind, record_ids)

    def finish(self) -> None:
        return None


@dataclass
class TelegramImportSummary:
    export: str = ""
    export_item_id: str | None = None
    export_sha256: str | None = None
    chats: list[str] = field(default_factory=list)
    posts: Counter[str] = field(default_factory=Counter)  # new, unchanged, edited, skipped
    media: Counter[str] = field(default_factory=Counter)  # stored, already_linked, not_exported, missing, ...
    repairs: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    media_problems: list[dict[str, Any]] = field(default_factory=list)
    observations_updated: int = 0  # posts whose views or reactions a later export changed

    def as_dict(self) -> dict[str, Any]:
        post_keys = ("new", "unchanged", "edited", "skipped")
        media_keys = ("stored", "already_linked", "not_exported", "missing", "refused", "failed")
        return {
            "export": self.export,
            "export_item_id": self.export_item_id,
            "export_sha256": self.export_sha256,
            "chats": self.chats,
            "posts": {k: self.posts[k] for k in post_keys},
            "media": {k: self.media[k] for k in media_keys},
            "repairs": self.repairs,
            "skipped": self.skipped,
            "media_problems": self.media_problems,
            "observations_updated": self.observations_updated,
        }


@dataclass
class _Batch:
    id: str
    new: list[Post] = field(default_factory=list)
    edited: list[tuple[Post, PostState]] = field(default_factory=list)
    media_work: list[tuple[str, MediaRef]] = field(default_factory=list)
    already_linked: int = 0
    unchanged: list[str] = field(default_factory=list)  # posts, and the stored media items of them,
    unchanged_items: list[str] = field(default_factory=list)  # that a killed run may not have indexed
    observed: list[tuple[PostState, PostRecord]] = field(default_factory=list)  # new views/reactions


def _batches(records: Iterable[PostRecord | SkippedMessage], size: int) -> Iterator[list[PostRecord | SkippedMessage]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _store_export(ports: ArchivePorts, source: PostSource) -> tuple[str | None, str]:
    path = source.result_path
    with path.open("rb") as handle:
        blob = ports.store.put(handle)
    outcome = record_blob(
        ports,
        blob,
        IntakeRequest(source_kind=EXPORT_KIND, source=source.label),
        path=source.label,
        name=path.name,
        mtime=datetime.fromtimestamp(path.stat().st_mtime, UTC),
    )
    return outcome.item_id, blob.sha256


def _plan_batch(
    ports: ArchivePorts, chunk: list[PostRecord], export_sha: str, export_item: str | None
) -> _Batch:
    batch = _Batch(new_id())
    now = ports.clock.now()
    by_chat: dict[str, list[PostRecord]] = {}
    for record in chunk:
        by_chat.setdefault(record.chat.key, []).append(record)
    with ports.uow(read_only=True) as tx:
        known: dict[tuple[str, int], PostState] = {}
        for chat_key, records in by_chat.items():
            for message_id, state in tx.posts.find(chat_key, [r.message_id for r in records]).items():
                known[(chat_key, message_id)] = state
        linked = tx.posts.stored_media([s.post_id for s in known.values()])
    seen: set[tuple[str, int]] = set()
    for record in chunk:
        key = (record.chat.key, record.message_id)
        if key in seen:  # the same message twice in one export: the first one counts
            continue
        seen.add(key)
        found = known.get(key)
        if found is not None and _observations_changed(found, record):
            batch.observed.append((found, record))
        if found is None:
            post = Post(new_id(), record, 1, export_sha, export_item, now)
            batch.new.append(post)
            batch.media_work.extend((post.id, ref) for ref in record.media)
        elif found.content_hash != record.content_hash():
            post = Post(found.post_id, record, found.version + 1, export_sha, export_item, now)
            batch.edited.append((post, found))
            batch.media_work.extend((post.id, ref) for ref in record.media)
        else:
            roles = linked.get(found.post_id, {})
            batch.media_work.extend((found.post_id, ref) for ref in record.media if ref.role not in roles)
            batch.already_linked += sum(1 for ref in record.media if ref.role in roles)
            batch.unchanged.append(found.post_id)
            batch.unchanged_items.extend(roles.values())
    return batch


def _observations_changed(found: PostState, record: PostRecord) -> bool:
    """A later export counts views and reactions anew; an export without them changes nothing."""
    return (record.views is not None and record.views != found.views) or (
        record.reactions is not None and record.reactions != found.reactions
    )


def _version(post: Post, at: datetime) -> PostVersion:
    r = post.record
    return PostVersion(
        post.id, post.version, r.text, list(r.entities), r.content_hash(), r.edited_utc, r.edited_local,
        post.source_export, r.json_path, at,
    )  # fmt: skip


def _write_posts(ports: ArchivePorts, batch: _Batch, export_sha: str) -> None:
    if not batch.new and not batch.edited and not batch.observed:
        return
    now = ports.clock.now()
    with ports.uow() as tx:
        with tx.custody.deferred():  # one entry a post (it shows in `show`), written together
            for state, record in batch.observed:  # the old counts stay in the entry: the log keeps the history
                tx.posts.set_observations(state.post_id, record.views, record.reactions)
                tx.custody.append(
                    ports.actor,
                    "post.observed",
                    state.post_id,
                    {
                        "export_sha256": export_sha,
                        "json_path": record.json_path,
                        "views": [state.views, record.views],
                        "reactions": [state.reactions, record.reactions],
                    },
                )
        for chat in {p.record.chat.key: p.record.chat for p in batch.new}.values():
            tx.posts.ensure_chat(chat, now)
        tx.posts.add_posts(batch.new, batch.id)
        tx.posts.add_versions([_version(p, now) for p in batch.new] + [_version(p, now) for p, _ in batch.edited])
        for post, state in batch.edited:
            tx.posts.set_current(post.id, post.record, post.version)
            tx.custody.append(
                ports.actor,
                "post.edited",
                post.id,
                {
                    "chat": post.record.chat.key,
                    "message_id": post.record.message_id,
                    "version": post.version,
                    "previous_hash": state.content_hash,
                    "content_hash": post.record.content_hash(),
                    "export_sha256": export_sha,
                    "json_path": post.record.json_path,
                },
            )
        if batch.new:
            tx.custody.append(
                ports.actor,
                "post.added",
                batch.id,
                {
                    "export_sha256": export_sha,
                    # one string per post, "<post id> <chat key>/<message id> <content sha256>"
                    "posts": [
                        f"{p.id} {p.record.chat.key}/{p.record.message_id} {p.record.content_hash()}" for p in batch.new
                    ],
                },
            )


def _index_missing(ports: ArchivePorts, index: RecordIndexer, batch: _Batch) -> None:
    """Resuming a killed run: its last batches' posts and media were committed but perhaps never
    indexed (the indexer works behind the recording thread); index whichever the index lacks."""
    search = ports.search
    if search is None:
        return
    for kind, ids in (("post", batch.unchanged), ("evidence", batch.unchanged_items)):
        missing = sorted(set(ids) - search.indexed(kind, ids)) if ids else []
        if missing:
            index.refresh(kind, missing)


def _collect_repairs(records: list[PostRecord], counts: Counter[str], local_only: Counter[str]) -> None:
    for record in records:
        counts.update(record.repairs)
        if record.date_utc is None and record.date_local:
            local_only[record.chat.key] += 1


def import_export(
    ports: ArchivePorts,
    source: PostSource,
    observer: ImportObserver | None = None,
    batch_size: int = BATCH,
    workers: int = 2,
    search_index: bool = True,
    indexer: RecordIndexer | None = None,
) -> TelegramImportSummary:
    """Import every message of `source`; safe to re-run (idempotent, resumes an interrupted run).
    New and edited posts go into the search index batch by batch (through `indexer`, inline by
    default) unless `search_index` is False (then `hujjat reindex` adds them later)."""
    ports.store.clean_temporary()
    summary = TelegramImportSummary(export=source.label, repairs=list(source.repairs))
    summary.repairs.extend(f"zip entry skipped: {entry}" for entry in source.skipped_entries)
    export_item, export_sha = _store_export(ports, source)
    summary.export_item_id, summary.export_sha256 = export_item, export_sha
    with ports.uow() as tx:
        tx.custody.append(
            ports.actor,
            "telegram.import.started",
            export_item,
            {"export": source.label, "export_sha256": export_sha, "messages": source.message_total, "repairs": summary.repairs},
        )
    if observer:
        observer.planned(source.message_total)
    index = (indexer or InlineIndexer(ports)) if search_index else None
    record_repairs: Counter[str] = Counter()
    local_only: Counter[str] = Counter()
    chats: dict[str, None] = {}
    pending: tuple[str, list[Future[Prepared]]] | None = None  # the previous batch's media, in the workers
    index_evidence = None if index is None else partial(index.refresh, "evidence")
    many = source.message_total >= PARALLEL_METADATA_MESSAGES
    parallel: AbstractContextManager[None] = ports.metadata.parallel() if many else nullcontext()
    with parallel, ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for chunk in _batches(source.records(), batch_size):  # parsing this batch overlaps the media of the last
            if pending is not None:
                write_media(ports, *pending, summary.media, summary.media_problems, index_evidence)
                pending = None
            records = [r for r in chunk if isinstance(r, PostRecord)]
            for skipped in (r for r in chunk if isinstance(r, SkippedMessage)):
                summary.posts["skipped"] += 1
                summary.skipped.append({"json_path": skipped.json_path, "reason": skipped.reason})
            chats.update((r.chat.key, None) for r in records)
            _collect_repairs(records, record_repairs, local_only)
            batch = _plan_batch(ports, records, export_sha, export_item)
            if batch.media_work:  # the workers store and read the files while the posts are written
                pending = (batch.id, submit_media(ports, source, batch.media_work, pool))
            _write_posts(ports, batch, export_sha)
            if index is not None and (batch.new or batch.edited):
                index.refresh("post", [p.id for p in batch.new] + [p.id for p, _ in batch.edited])
            if index is not None:
                _index_missing(ports, index, batch)
            summary.media["already_linked"] += batch.already_linked
            summary.observations_updated += len(batch.observed)
            summary.posts["new"] += len(batch.new)
            summary.posts["edited"] += len(batch.edited)
            summary.posts["unchanged"] += len(records) - len(batch.new) - len(batch.edited)
            if observer:
                observer.advance(len(chunk))
        if pending is not None:
            write_media(ports, *pending, summary.media, summary.media_problems, index_evidence)
    if index is not None:
        index.finish()
    summary.chats = list(chats)
    summary.repairs.extend(f"{note}: {count} message(s)" for note, count in sorted(record_repairs.items()))
    summary.repairs.extend(
        f"{chat}: {count} message(s) have only the exporter's local time (offset unknown; no date_unixtime): "
        "date_utc left empty, give --utc-offset to set it"
        for chat, count in sorted(local_only.items())
    )
    with ports.uow() as tx:
        tx.custody.append(
            ports.actor,
            "telegram.import.finished",
            export_item,
            {"export_sha256": export_sha, **{k: v for k, v in summary.as_dict().items() if k in ("posts", "media", "chats")}},
        )
    return summary
