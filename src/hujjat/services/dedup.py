"""Near-duplicate use cases: fingerprint an item and match it against the archive (at intake and
in back-fill), and list an item's near-duplicates (`hujjat similar`).

The database is the truth; the hash index is kept in step with it here (sync_index) before every
search. Matching an item and recording it happen under the fingerprinter's lock, so two copies
ingested by two threads of one `hujjat add` still find each other. A newer item is recorded as
matching the older ones (`item_id` newer, `other_id` older); each match is a custody entry.
"""

from __future__ import annotations

import io
import weakref
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from hujjat.domain.canonical import canonical_bytes, sha256_hex
from hujjat.domain.errors import HujjatError
from hujjat.domain.near_duplicates import (
    KIND_PDQ,
    KIND_VPDQ,
    STATUS_FAILED,
    STATUS_OK,
    DedupSettings,
    Fingerprint,
    NearMatch,
    compare_videos,
    similarity,
    videos_match,
)
from hujjat.ports import Transaction
from hujjat.ports.fingerprints import Fingerprinter
from hujjat.services.context import ArchivePorts

SYNC_BATCH = 50_000
IN_MEMORY_LIMIT = 512 * 1024 * 1024
_VERIFIED: weakref.WeakSet[Any] = weakref.WeakSet()  # indexes checked against the database in this process
MAX_FRAME_PAIRS = 50


def require_fingerprinter(ports: ArchivePorts) -> Fingerprinter:
    if ports.fingerprints is None:
        raise HujjatError(
            "near-duplicate detection is switched off for this archive ([dedup] enabled = false)"
        )
    return ports.fingerprints


def sync_index(ports: ArchivePorts, engine: Fingerprinter) -> None:
    """Bring the hash index up to the database.

    The first time in a process the counts are compared too, and the index is rebuilt when it
    holds rows the database no longer has (a replaced fingerprint, a restored database, a changed
    setting) or lacks rows below its highest key (committed out of order by another process).
    After that only rows above the highest key held are read: one indexed range query.
    """
    quality = engine.settings.min_quality
    verified = engine.index in _VERIFIED
    for attempt in range(2):
        held, last = engine.index.synced_to()
        with ports.uow(read_only=True) as tx:
            if not verified:
                count, top = tx.fingerprints.hash_stats(quality)
                if (held, last) == (count, top):
                    break
                if attempt == 1 or held > count or last > top:
                    engine.index.reset()
                    last = 0
            batch: list[tuple[int, str]] = []
            for row in tx.fingerprints.iter_hashes(last, quality):
                batch.append(row)
                if len(batch) >= SYNC_BATCH:
                    engine.index.add([k for k, _ in batch], [h for _, h in batch])
                    batch = []
            engine.index.add([k for k, _ in batch], [h for _, h in batch])
        if verified or engine.index.synced_to()[0] >= count:
            break
    _VERIFIED.add(engine.index)


def _pair_settings(settings: DedupSettings, a: Fingerprint, b: Fingerprint) -> DedupSettings:
    return _settings_for(settings, a.kind == KIND_PDQ, b.kind == KIND_PDQ)


@lru_cache(maxsize=32)
def _settings_for(settings: DedupSettings, a_image: bool, b_image: bool) -> DedupSettings:
    """Made once per kind of pair, not per comparison (a batch of photos compares every pair)."""
    if a_image and b_image:
        return replace(settings, frame_distance=settings.image_distance)
    if a_image or b_image:
        return replace(settings, frame_distance=min(settings.image_distance, settings.frame_distance))
    return settings


def match_kind(a: Fingerprint, b: Fingerprint) -> str:
    if a.kind == b.kind:
        return "image" if a.kind == KIND_PDQ else "video"
    return "frame"


def compare(
    item_id: str, mine: Fingerprint, other_id: str, other: Fingerprint, settings: DedupSettings
) -> NearMatch | None:
    """Apply the pair's rules (PDQ distance for two images, vPDQ containment otherwise)."""
    rules = _pair_settings(settings, mine, other)
    result = compare_videos(mine.frames, other.frames, rules)
    if not result.pairs or not videos_match(result, rules):
        return None
    pairs = sorted(result.pairs, key=lambda p: (p.distance, p.query_ms))[:MAX_FRAME_PAIRS]
    frames = tuple(sorted((p.query_ms, p.other_ms, p.distance) for p in pairs))
    best = min(p.distance for p in result.pairs)
    return NearMatch(item_id, other_id, match_kind(mine, other), best, int(result.containment), frames)


def find_matches(
    ports: ArchivePorts, engine: Fingerprinter, item_id: str, mine: Fingerprint, settings: DedupSettings
) -> list[NearMatch]:
    """Every archived item that `mine` matches, the index narrowing the candidates first."""
    with ports.uow(read_only=True) as tx:
        return _matches_in(tx, engine, item_id, mine, settings)


def _matches_in(
    tx: Transaction, engine: Fingerprinter, item_id: str, mine: Fingerprint, settings: DedupSettings
) -> list[NearMatch]:
    """find_matches within a transaction (which also sees what it wrote itself)."""
    usable = mine.usable_frames(settings.min_quality)
    if mine.status != STATUS_OK or not usable:
        return []
    radius = max(settings.image_distance, settings.frame_distance)
    queries = [h for f in usable for h in (f.hash, f.flipped, f.center, f.center_flipped) if h]
    hits = {row for found in engine.index.search(queries, radius) for row, _ in found}
    if not hits:
        return []
    owners = tx.fingerprints.owners(sorted(hits))
    candidates = sorted({o for o in owners.values() if o != item_id})
    prints = tx.fingerprints.get_many(candidates)
    matches = []
    for other_id in candidates:
        other = prints.get(other_id)
        if other is not None and other.status == STATUS_OK:
            found = compare(item_id, mine, other_id, other, settings)
            if found is not None:
                matches.append(found)
    return sorted(matches, key=lambda m: (m.distance, -m.percent, m.other_id))


def _custody_fingerprint(fingerprint: Fingerprint) -> dict[str, object]:
    frames = [[f.frame, f.timestamp_ms, f.quality, f.hash, f.center] for f in fingerprint.frames]
    return {
        "kind": fingerprint.kind,
        "status": fingerprint.status,
        "algorithm": fingerprint.algorithm,
        "reason": fingerprint.reason,
        "frames": len(frames),
        "hashes_sha256": sha256_hex(canonical_bytes(frames)),
    }


def record_fingerprint(
    ports: ArchivePorts, item_id: str, fingerprint: Fingerprint, via: str
) -> list[NearMatch]:
    """Match, then store the fingerprint and the matches, with custody entries, in one transaction."""
    return record_fingerprints(ports, [(item_id, fingerprint)], via)


def record_fingerprints(
    ports: ArchivePorts, fingerprinted: list[tuple[str, Fingerprint]], via: str
) -> list[NearMatch]:
    """Match and store many fingerprints (an intake batch) in one transaction, in order.

    A photo is compared directly with the batch's earlier photos, whose hashes enter the index
    together (at the end, or before a video, which is matched through the index alone); one index sync and one commit serve the batch, where one per
    item made them most of a media import's time. If the transaction fails, the index is rebuilt
    from the database on next use (it may hold keys of rows that were never committed)."""
    if not fingerprinted:
        return []
    engine = require_fingerprinter(ports)
    settings = engine.settings
    recorded: list[NearMatch] = []
    with engine.exclusive():
        sync_index(ports, engine)
        try:
            with ports.uow() as tx, tx.custody.deferred():
                now = ports.clock.now()
                pending: list[tuple[str, Fingerprint]] = []  # this batch's images not in the index yet
                unsaved: list[tuple[str, Fingerprint]] = []  # written together, before the index reads them
                for item_id, fingerprint in fingerprinted:
                    image = fingerprint.kind == KIND_PDQ
                    if not image and pending:  # a video is matched through the index alone
                        _save_and_index(tx, engine, settings.min_quality, unsaved, now)
                        pending = []
                    matches = _matches_in(tx, engine, item_id, fingerprint, settings)
                    if image:
                        matches += _matches_among(item_id, fingerprint, pending, settings)
                    unsaved.append((item_id, fingerprint))
                    tx.custody.append(ports.actor, "fingerprint.computed", item_id, _custody_fingerprint(fingerprint))
                    for match in sorted(matches, key=lambda m: (m.distance, -m.percent, m.other_id)):
                        if tx.fingerprints.add_match(match, via, now):
                            recorded.append(match)
                            _log_match(ports, tx, match, via)
                    if image:
                        pending.append((item_id, fingerprint))
                    else:
                        _save_and_index(tx, engine, settings.min_quality, unsaved, now)
                _save_and_index(tx, engine, settings.min_quality, unsaved, now)
        except BaseException:
            engine.index.reset()
            _VERIFIED.discard(engine.index)
            raise
        engine.index.save()
    return recorded


def _matches_among(
    item_id: str, mine: Fingerprint, others: list[tuple[str, Fingerprint]], settings: DedupSettings
) -> list[NearMatch]:
    """Matches against photos recorded earlier in the same batch, compared directly (`compare` is
    what decides after the index's candidate search too; one PDQ frame each, so this is cheap)."""
    if mine.status != STATUS_OK or not mine.usable_frames(settings.min_quality):
        return []
    found = []
    for other_id, other in others:
        if other_id != item_id and other.status == STATUS_OK:
            match = compare(item_id, mine, other_id, other, settings)
            if match is not None:
                found.append(match)
    return found


def _save_and_index(
    tx: Transaction, engine: Fingerprinter, min_quality: int, unsaved: list[tuple[str, Fingerprint]], at: datetime
) -> None:
    """Write the `unsaved` fingerprints together (emptying the list), then index their rows."""
    tx.fingerprints.save_many(unsaved, at)
    unsaved.clear()
    _index_new_rows(tx, engine, min_quality)


def _index_new_rows(tx: Transaction, engine: Fingerprinter, min_quality: int) -> None:
    """Add the rows above the index's highest key (this transaction's own) to the index."""
    _, last = engine.index.synced_to()
    rows = list(tx.fingerprints.iter_hashes(last, min_quality))
    engine.index.add([key for key, _ in rows], [digest for _, digest in rows])


def _log_match(ports: ArchivePorts, tx: Transaction, match: NearMatch, via: str) -> None:
    other = tx.items.get(match.other_id)
    tx.custody.append(
        ports.actor,
        "near_duplicate.matched",
        match.item_id,
        {
            "other": match.other_id,
            "other_sha256": other.sha256 if other else None,
            "kind": match.kind,
            "distance": match.distance,
            "percent": match.percent,
            "frames": len(match.frames),
            "via": via,
        },
    )


def fingerprint_and_match(
    ports: ArchivePorts, item_id: str, local_path: Path | None, media_type: str, via: str = "intake"
) -> list[NearMatch]:
    """The intake hook: fingerprint a new image or video and record what it matches.

    Other media, or an archive with fingerprinting off, cost nothing."""
    fingerprint = compute_fingerprint(ports, item_id, local_path, media_type)
    if fingerprint is None:
        return []
    return record_fingerprints(ports, [(item_id, fingerprint)], via)


def wants_fingerprint(ports: ArchivePorts, media_type: str) -> bool:
    return ports.fingerprints is not None and media_type.startswith(("image/", "video/"))


def compute_fingerprint(
    ports: ArchivePorts, item_id: str | None, local_path: Path | None, media_type: str
) -> Fingerprint | None:
    """The fingerprint of an image or video (None for other media or with fingerprinting off).
    Safe to run on worker threads: it only reads.

    A stored blob with no local path (an S3 or encrypted store) is read into memory, never
    written to a temporary file (that would leave plaintext of an encrypted archive on disk); one
    over IN_MEMORY_LIMIT is recorded as not fingerprinted, with the reason."""
    engine = ports.fingerprints
    if engine is None or not wants_fingerprint(ports, media_type):
        return None
    if local_path is not None:
        return engine.compute(local_path, media_type)
    if item_id is None:
        return None
    with ports.uow(read_only=True) as tx:
        item = tx.items.get(item_id)
    if item is None:
        return None
    if item.size > IN_MEMORY_LIMIT:
        kind = KIND_PDQ if media_type.startswith("image/") else KIND_VPDQ
        reason = f"no local copy and too large to read into memory ({item.size} bytes)"
        return Fingerprint(kind, STATUS_FAILED, "none", reason=reason)
    with ports.store.open(item.sha256) as source:
        return engine.compute(io.BytesIO(source.read()), media_type)


@dataclass
class BackfillReport:
    fingerprinted: int = 0
    matches: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


def fingerprint_all(ports: ArchivePorts, progress: Any = None, redo: bool = False) -> BackfillReport:
    """Fingerprint every image and video that has none yet (every one with `redo`, after a
    settings or version change), oldest first so newer copies point at older ones; then list every
    item that could not be fingerprinted usefully, with the reason."""
    require_fingerprinter(ports)
    with ports.uow(read_only=True) as tx:
        todo = tx.fingerprints.unfingerprinted(everything=redo)
    report = BackfillReport()
    if progress is not None:
        progress(0, len(todo))
    for done, ref in enumerate(todo, 1):
        local = ports.store.local_path(ref.sha256)
        report.matches += len(
            fingerprint_and_match(ports, ref.item_id, local, ref.media_type, via="backfill")
        )
        report.fingerprinted += 1
        if progress is not None:
            progress(done, len(todo))
    with ports.uow(read_only=True) as tx:
        for ref, status, reason in tx.fingerprints.problems():
            report.problems.append(
                {
                    "id": ref.item_id,
                    "sha256": ref.sha256,
                    "media_type": ref.media_type,
                    "status": status,
                    "reason": reason,
                }
            )
    return report


def similar(ports: ArchivePorts, reference: str, threshold: int | None = None) -> dict[str, Any]:
    """Near-duplicates of one item, found live in the index (not only the recorded matches)."""
    engine = require_fingerprinter(ports)
    settings = engine.settings
    if threshold is not None:
        if not 0 <= threshold < 128:
            raise HujjatError("--threshold must be between 0 and 127")
        settings = replace(settings, image_distance=threshold, frame_distance=threshold)
    with ports.uow(read_only=True) as tx:
        item = tx.items.resolve(reference)
        mine = tx.fingerprints.get_many([item.id]).get(item.id)
    if mine is None:
        if not item.media_type.startswith(("image/", "video/")):
            raise HujjatError(f"item {item.id} is {item.media_type}, not an image or video")
        raise HujjatError(f"item {item.id} has no fingerprint yet; run `hujjat fingerprint --all`")
    if mine.status != STATUS_OK:
        raise HujjatError(f"item {item.id} cannot be matched: {mine.reason}")
    with engine.exclusive():
        sync_index(ports, engine)
        matches = find_matches(ports, engine, item.id, mine, settings)
    with ports.uow(read_only=True) as tx:
        rows = []
        for m in matches:
            other = tx.items.get(m.other_id)
            rows.append(
                {
                    "id": m.other_id,
                    "sha256": other.sha256 if other else None,
                    "media_type": other.media_type if other else None,
                    "kind": m.kind,
                    "distance": m.distance,
                    "similarity": similarity(m.distance),
                    "percent": m.percent,
                    "frames": [
                        {"query_s": q / 1000, "other_s": o / 1000, "distance": d} for q, o, d in m.frames
                    ],
                }
            )
    return {
        "id": item.id,
        "sha256": item.sha256,
        "kind": mine.kind,
        "thresholds": {"image_distance": settings.image_distance, "frame_distance": settings.frame_distance},
        "results": rows,
    }
