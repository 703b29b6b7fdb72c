"""The media of an imported export's posts: stored and read on worker threads, recorded in batches.

`submit_media` hands a batch's media to the worker pool (store the bytes, read media type,
metadata and fingerprint: the CPU and I/O work) and returns at once, so the recording thread can
parse and write the next posts meanwhile; `write_media` then records the prepared files with the
shared intake (`record_blobs`, source_kind "telegram", source = the post id) and links them to
their posts in one transaction (`post.media.linked`). Placeholders, missing files and refused
paths are linked as such, without bytes. Given `index_evidence`, the import's indexer (which may
work in another process) indexes the stored files' evidence documents, instead of `record_blobs`
on the recording thread.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hujjat.domain.posts import MediaRef, MediaStatus, PostMedia
from hujjat.ports.posts import PostSource
from hujjat.services.context import ArchivePorts
from hujjat.services.intake import IntakeRequest, PreparedBlob, prepare_blob, record_blobs, store_file

MEDIA_KIND = "telegram"

Prepared = PostMedia | tuple[PostMedia, PreparedBlob]


def prepare_media(ports: ArchivePorts, source: PostSource, post_id: str, ref: MediaRef) -> Prepared:
    """Runs in a worker: store the bytes and read their metadata; records come later, batched."""
    location = source.locate(ref)
    if location.path is None:
        status = location.status or MediaStatus.MISSING
        return PostMedia(post_id, ref.role, status, ref, reason=location.reason)
    try:
        mtime = datetime.fromtimestamp(location.path.stat().st_mtime, UTC)
        blob, staged = store_file(ports, location.path)
    except OSError as exc:
        return PostMedia(post_id, ref.role, MediaStatus.FAILED, ref, reason=exc.strerror or str(exc))
    prepared = prepare_blob(
        ports,
        blob,
        IntakeRequest(source_kind=MEDIA_KIND, source=post_id),
        path=f"{source.label}/{ref.path}",
        name=Path(ref.path or "").name,
        mtime=mtime,
        fallback=location.path,
        staged=staged,
    )
    return PostMedia(post_id, ref.role, MediaStatus.STORED, ref, None, blob.sha256, blob.size), prepared


def submit_media(
    ports: ArchivePorts, source: PostSource, work: Sequence[tuple[str, MediaRef]], pool: Executor
) -> list[Future[Prepared]]:
    return [pool.submit(prepare_media, ports, source, post_id, ref) for post_id, ref in work]


def _record_media(
    ports: ArchivePorts, prepared: list[Prepared], index_evidence: Callable[[list[str]], None] | None
) -> list[PostMedia]:
    """Items and acquisitions for the stored files in one transaction, then the rows with item ids."""
    pending = [p for p in prepared if isinstance(p, tuple)]
    recorded = []
    if pending:
        recording = ports if index_evidence is None else replace(ports, search=None)  # indexed below
        recorded = record_blobs(recording, [blob for _, blob in pending])
        if index_evidence is not None:
            fresh = dict.fromkeys(o.item_id for o in recorded if o.new_acquisition and o.item_id)  # as record_blobs
            if fresh:
                index_evidence(list(fresh))
    outcomes = iter(recorded)
    rows: list[PostMedia] = []
    for entry in prepared:
        if isinstance(entry, tuple):
            outcome = next(outcomes)
            if outcome.status == "failed":  # the store could not make the bytes durable
                rows.append(replace(entry[0], status=MediaStatus.FAILED, reason=outcome.message, sha256=None, size=None))
            else:
                rows.append(replace(entry[0], item_id=outcome.item_id))
        else:
            rows.append(entry)
    return rows


def write_media(
    ports: ArchivePorts,
    batch_id: str,
    futures: list[Future[Prepared]],
    counts: Counter[str],
    problems: list[dict[str, Any]],
    index_evidence: Callable[[list[str]], None] | None = None,
) -> None:
    """Record and link one batch's media once its workers are done; tally them in `counts`."""
    if not futures:
        return
    rows = _record_media(ports, [f.result() for f in futures], index_evidence)
    with ports.uow() as tx:
        fresh = tx.posts.add_media(rows, ports.clock.now())
        if fresh:
            tx.custody.append(
                ports.actor,
                "post.media.linked",
                batch_id,
                {"media": [[m.post_id, m.role, m.status.value, m.sha256, m.reason] for m in fresh]},
            )
    fresh_keys = {m.dedup_key() for m in fresh}
    for row in rows:
        is_fresh = row.dedup_key() in fresh_keys
        counts[row.status.value if is_fresh else "already_linked"] += 1
        if is_fresh and row.status in (MediaStatus.MISSING, MediaStatus.REFUSED, MediaStatus.FAILED):
            problems.append(
                {"post": row.post_id, "role": row.role, "path": row.ref.path, "status": row.status.value, "reason": row.reason}
            )
