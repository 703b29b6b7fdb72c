"""Ingesting files: stream each into the content-addressed store, then record item, acquisition,
metadata and custody entries, a batch of files per transaction.

Order matters for crash safety: the blob is complete and durable under its real name before any
record points at it (a staging store makes a whole batch durable with one filesystem sync just
before its transaction), and the records of one batch commit together. A process killed at any moment leaves at most
an unreferenced blob, which re-running the same command adopts; re-running never doubles anything
because an identical acquisition is recognised (Acquisition.key).
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol, TypeGuard

from hujjat.domain.canonical import canonical_bytes, sha256_hex
from hujjat.domain.evidence import Acquisition, EvidenceItem, MetadataRecord, StoredBlob
from hujjat.domain.ids import new_id
from hujjat.domain.near_duplicates import Fingerprint
from hujjat.ports import BlobStore, ProgressCallback, StagedBlob, StagingBlobStore, Transaction
from hujjat.services.context import ArchivePorts
from hujjat.services.dedup import compute_fingerprint, record_fingerprints, wants_fingerprint
from hujjat.services.file_walk import Candidate, Skip, walk
from hujjat.services.search import refresh_evidence


class FileChangedWhileReading(OSError):
    """The file's length changed between stat and the end of reading it."""


class _CheckedReader:
    """Passes reads through, counts bytes, and fails at EOF if the file shrank or grew meanwhile,
    so the store discards the temporary copy instead of keeping a torn read."""

    def __init__(self, handle: BinaryIO, expected: int) -> None:
        self.handle = handle
        self.expected = expected
        self.seen = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self._count(len(chunk))
        return chunk

    def readinto(self, buffer: memoryview | bytearray) -> int:
        """Lets the store fill its reused buffers and hash on another core (see blobs.common)."""
        count = int(self.handle.readinto(buffer) or 0)  # type: ignore[attr-defined]
        self._count(count)
        return count

    def fileno(self) -> int:
        """Lets the store copy a regular file in the kernel (blobs.common._copy_by_kernel)."""
        return int(self.handle.fileno())

    def finished(self, total: int) -> None:
        """The kernel copied `total` bytes: the same length check as reading them, and the file
        must still be that long (a change right after the last chunk is a change during the read)."""
        self.seen = total
        self._count(0)
        now = os.fstat(self.fileno()).st_size
        if now != total:
            raise FileChangedWhileReading(f"file changed while being read (now {now} bytes, {total} copied)")

    def _count(self, count: int) -> None:
        self.seen += count
        if not count and self.seen != self.expected:
            raise FileChangedWhileReading(
                f"file changed while being read ({self.expected} bytes expected, {self.seen} read)"
            )
        if self.seen > self.expected:
            raise FileChangedWhileReading(f"file grew while being read (more than {self.expected} bytes)")


@dataclass(frozen=True)
class IntakeOutcome:
    path: str
    status: str  # added | present | failed | skipped
    item_id: str | None = None
    sha256: str | None = None
    size: int = 0
    media_type: str | None = None
    new_acquisition: bool = False
    message: str | None = None


@dataclass
class IntakeSummary:
    outcomes: list[IntakeOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return not any(o.status in ("failed", "skipped") for o in self.outcomes)


class IntakeObserver(Protocol):
    def planned(self, files: int, total_bytes: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def finished(self, outcome: IntakeOutcome) -> None: ...


@dataclass(frozen=True)
class IntakeRequest:
    source_kind: str = "file"
    source: str | None = None
    note: str | None = None


BATCH_FILES = 64
BATCH_SECONDS = 0.5
PARALLEL_METADATA_FILES = 32
"""From this many files on, metadata is read in a child process (MetadataReader.parallel): its
start (about 0.3 s of imports) is then small against the interpreter lock it frees."""
LARGE_FILE = 8 << 20
LARGE_WORKERS = 2
"""Files of at least LARGE_FILE bytes are copied by LARGE_WORKERS threads of their own, from the
start: a large copy waits on the disk and a photo on the CPU, so they overlap. Before, the walk's
order decided (a folder of videos after a folder of photos was copied only once every photo was
done); on the 2 GiB bench the videos' 1.1-1.2 s now run beside the photos (bench/RESULTS.md)."""


@dataclass
class PreparedBlob:
    """A blob already in the store, with what its bytes say, waiting to be recorded."""

    blob: StoredBlob
    request: IntakeRequest
    path: str | None
    name: str | None
    mtime: datetime | None
    fallback: Path | None
    media_type: str | None = None
    extracted: MetadataRecord | None = None
    staged: StagedBlob | None = None  # bytes a staging store still has to publish
    fingerprint: Fingerprint | None = None  # near-duplicate fingerprint, computed on a worker
    metadata_sha256: str | None = None  # of `extracted.data` (canonical JSON), also computed on a worker


def ingest_paths(
    ports: ArchivePorts,
    paths: Iterable[Path],
    request: IntakeRequest,
    observer: IntakeObserver | None = None,
    workers: int = 4,
) -> IntakeSummary:
    """Workers stream files into the store and read their metadata while this thread records
    finished files in batches (one transaction per batch of up to BATCH_FILES files or
    BATCH_SECONDS), so the database work overlaps the copying and hashing. `workers` threads copy
    the files below LARGE_FILE, LARGE_WORKERS more the larger ones. Four workers on two cores:
    they mostly wait (the disk, the metadata child), and more writes in flight keep the disk
    busier (staging 1,155 files: 5.5-9.9 s with four, 6.6-13.1 s with two)."""
    ports.store.clean_temporary()
    found = list(walk(paths))
    candidates = [c for c in found if isinstance(c, Candidate)]
    summary = IntakeSummary()
    for skip in (s for s in found if isinstance(s, Skip)):
        summary.outcomes.append(IntakeOutcome(str(skip.path), "skipped", message=skip.reason))
    if observer:
        observer.planned(len(candidates), sum(c.size for c in candidates))
        for outcome in summary.outcomes:
            observer.finished(outcome)

    def report(outcomes: list[IntakeOutcome]) -> None:
        summary.outcomes.extend(outcomes)
        if observer:
            for outcome in outcomes:
                observer.finished(outcome)

    batch: list[PreparedBlob] = []
    last_flush = time.monotonic()
    parallel: AbstractContextManager[None] = ports.metadata.parallel() if len(candidates) >= PARALLEL_METADATA_FILES else nullcontext()
    with (
        parallel,
        ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="intake") as pool,
        ThreadPoolExecutor(max_workers=LARGE_WORKERS, thread_name_prefix="intake-large") as large,
    ):
        futures = [
            (large if c.size >= LARGE_FILE else pool).submit(prepare_file, ports, c, request, observer)
            for c in candidates
        ]
        try:
            for future in futures:  # recorded in the walk's order, whichever thread copied the file
                prepared = future.result()
                if isinstance(prepared, IntakeOutcome):
                    report([prepared])
                    continue
                batch.append(prepared)
                if len(batch) >= BATCH_FILES or time.monotonic() - last_flush > BATCH_SECONDS:
                    report(record_blobs(ports, batch))
                    batch, last_flush = [], time.monotonic()
            if batch:
                report(record_blobs(ports, batch))
        except BaseException:  # interrupted: what this batch staged is not anyone's object yet
            for future in futures:
                future.cancel()
            _discard(ports, batch)
            raise
    return summary


_STAGING: weakref.WeakKeyDictionary[BlobStore, bool] = weakref.WeakKeyDictionary()


def _staging(store: BlobStore) -> TypeGuard[StagingBlobStore]:
    """isinstance(store, StagingBlobStore), remembered per store: against a runtime-checkable
    Protocol it inspects every member, ~28 us under the interpreter lock, and ran once per file."""
    known = _STAGING.get(store)
    if known is None:
        known = _STAGING[store] = isinstance(store, StagingBlobStore)
    return known


def _discard(ports: ArchivePorts, batch: list[PreparedBlob]) -> None:
    staged = [p.staged for p in batch if p.staged is not None]
    store = ports.store
    if staged and _staging(store):
        store.discard(staged)


def prepare_file(
    ports: ArchivePorts, candidate: Candidate, request: IntakeRequest, observer: IntakeObserver | None = None
) -> PreparedBlob | IntakeOutcome:
    path = candidate.path
    try:
        blob, staged = store_file(ports, path, candidate.size, observer.advance if observer else None)
    except OSError as exc:
        return IntakeOutcome(str(path), "failed", message=exc.strerror or str(exc))
    mtime = datetime.fromtimestamp(candidate.mtime_ns / 1e9, UTC)
    return prepare_blob(
        ports, blob, request, path=str(path), name=path.name, mtime=mtime, fallback=path, staged=staged
    )


def store_file(
    ports: ArchivePorts, path: Path, expected_size: int | None = None, progress: ProgressCallback | None = None
) -> tuple[StoredBlob, StagedBlob | None]:
    """Stream a file into the store: staged (made durable and named with its batch by
    record_blobs) where the store can, else put at once. A file whose length changes while it is
    read (against `expected_size`, or its size when opened) raises FileChangedWhileReading."""
    store = ports.store
    with path.open("rb", buffering=0) as handle:  # raw reads straight into the store's buffers
        size = expected_size if expected_size is not None else os.fstat(handle.fileno()).st_size
        reader = _CheckedReader(handle, size)
        if _staging(store):
            staged = store.stage(reader, progress)  # type: ignore[arg-type]
            return StoredBlob(staged.sha256, staged.size, created=not staged.present), staged
        return store.put(reader, progress), None  # type: ignore[arg-type]


def prepare_blob(
    ports: ArchivePorts,
    blob: StoredBlob,
    request: IntakeRequest,
    *,
    path: str | None,
    name: str | None,
    mtime: datetime | None,
    fallback: Path | None = None,
    staged: StagedBlob | None = None,
) -> PreparedBlob:
    """Read media type and metadata, unless the archive already holds these bytes as an item.
    Staged bytes are read from the store's own copy, not from a source that may change."""
    prepared = PreparedBlob(blob, request, path, name, mtime, fallback, staged=staged)
    known = None
    if not blob.created:  # content was in the store already: usually an item, unless a crash orphaned it
        with ports.uow(read_only=True) as tx:
            known = tx.items.get_by_sha256(blob.sha256)
    if known is not None:
        prepared.media_type = known.media_type
        return prepared
    local = (staged.path if staged is not None else None) or ports.store.local_path(blob.sha256) or fallback
    if local is not None:
        prepared.media_type = ports.metadata.detect_media_type(local)
        prepared.extracted = ports.metadata.extract(local, prepared.media_type)
        prepared.metadata_sha256 = _data_sha256(prepared.extracted)
        if wants_fingerprint(ports, prepared.media_type):  # on the worker: PDQ/vPDQ is CPU work
            prepared.fingerprint = compute_fingerprint(ports, None, local, prepared.media_type)
    return prepared


def _data_sha256(record: MetadataRecord) -> str:
    """What the metadata.extracted custody entry holds of a record: the hash of its data."""
    return sha256_hex(canonical_bytes(record.data))


def record_blob(
    ports: ArchivePorts,
    blob: StoredBlob,
    request: IntakeRequest,
    *,
    path: str | None,
    name: str | None,
    mtime: datetime | None,
    fallback: Path | None = None,
) -> IntakeOutcome:
    """Record a stored blob as an item (if new) and an acquisition (if not the same one again).

    Shared by every intake route (files, Telegram media, captures, packages) so provenance is
    always recorded the same way.
    """
    prepared = prepare_blob(ports, blob, request, path=path, name=name, mtime=mtime, fallback=fallback)
    return record_blobs(ports, [prepared])[0]


def record_blobs(ports: ArchivePorts, batch: list[PreparedBlob]) -> list[IntakeOutcome]:
    """Publish what the batch staged, record the batch in one transaction; then index and
    fingerprint what is new. One outcome per prepared blob, in the batch's order."""
    failed = _publish(ports, batch)
    recorded: dict[int, IntakeOutcome] = {}
    followups: list[tuple[EvidenceItem, bool, bool, PreparedBlob]] = []
    kept = [index for index in range(len(batch)) if index not in failed]
    acquired: dict[str, list[Acquisition]] = {}  # the batch's new acquisitions, by item
    with ports.uow() as tx, tx.custody.deferred():
        recorded_batch = _record_batch(ports, tx, [batch[i] for i in kept])
        for index, (outcome, item, created, acquisition) in zip(kept, recorded_batch, strict=True):
            recorded[index] = outcome
            followups.append((item, created, outcome.new_acquisition, batch[index]))
            if outcome.new_acquisition:
                acquired.setdefault(item.id, []).append(acquisition)
    if ports.search is not None:  # names and notes of every acquisition are searchable: one index write
        created_here = {item.id: item for item, created, _, _ in followups if created}  # all their acquisitions are here
        refresh_evidence(
            ports,
            [(item, acquired[item.id]) for item in created_here.values()],
            [item_id for item_id in acquired if item_id not in created_here],
        )
    if ports.fingerprints is not None:  # near-duplicates (services/dedup): match and record the batch at once
        fingerprinted = []
        for item, created, _, prepared in followups:
            if created and wants_fingerprint(ports, item.media_type):
                fingerprint = prepared.fingerprint or compute_fingerprint(
                    ports, item.id, ports.store.local_path(item.sha256) or prepared.fallback, item.media_type
                )
                if fingerprint is not None:
                    fingerprinted.append((item.id, fingerprint))
        record_fingerprints(ports, fingerprinted, "intake")
    return [failed.get(index) or recorded[index] for index in range(len(batch))]


def _publish(ports: ArchivePorts, batch: list[PreparedBlob]) -> dict[int, IntakeOutcome]:
    """Make the staged bytes of the batch durable under their real names (one filesystem sync for
    all). If that fails (disk full, I/O error) nothing staged is kept and each staged file is
    reported failed (by its index in the batch); the rest of the batch is still recorded."""
    staged = {i: p.staged for i, p in enumerate(batch) if p.staged is not None}
    store = ports.store
    if not staged or not _staging(store):
        return {}
    try:
        published = store.publish(list(staged.values()))
    except OSError as exc:
        store.discard(list(staged.values()))
        reason = f"could not be stored: {exc.strerror or exc}"
        return {
            i: IntakeOutcome(batch[i].path or batch[i].name or batch[i].blob.sha256, "failed", message=reason)
            for i in staged
        }
    for index, blob in zip(staged, published, strict=True):
        batch[index].blob, batch[index].staged = blob, None
    return {}


def _record_batch(
    ports: ArchivePorts, tx: Transaction, batch: list[PreparedBlob]
) -> list[tuple[IntakeOutcome, EvidenceItem, bool, Acquisition]]:
    """Insert the batch's items, metadata and acquisitions with one statement each, then append
    the custody entries file by file, in the order a file-at-a-time loop would (item.added,
    metadata.extracted, item.acquired)."""
    moments = [ports.clock.now() for _ in batch]
    added = tx.items.add_many(
        [
            EvidenceItem(new_id(), p.blob.sha256, p.blob.size, p.media_type or "application/octet-stream", now)
            for p, now in zip(batch, moments, strict=True)
        ]
    )
    with_metadata = [
        (item.id, p.extracted) for p, (item, created) in zip(batch, added, strict=True) if created and p.extracted
    ]
    tx.items.add_metadata_many(with_metadata, moments[0] if moments else ports.clock.now())
    acquisitions = [
        Acquisition(
            id=new_id(),
            item_id=item.id,
            acquired_at=now,
            actor=ports.actor,
            source_kind=p.request.source_kind,
            source=p.request.source,
            path=p.path,
            original_name=p.name,
            original_mtime=p.mtime,
            note=p.request.note,
        )
        for p, (item, _), now in zip(batch, added, moments, strict=True)
    ]
    fresh = tx.items.add_acquisitions(acquisitions)
    results = []
    for prepared, (item, created), acquisition, new_acquisition in zip(batch, added, acquisitions, fresh, strict=True):
        _append_custody(ports, tx, prepared, item, acquisition, created=created, new_acquisition=new_acquisition)
        outcome = IntakeOutcome(
            prepared.path or prepared.name or item.sha256,
            "added" if created else "present",
            item_id=item.id,
            sha256=item.sha256,
            size=item.size,
            media_type=item.media_type,
            new_acquisition=new_acquisition,
        )
        results.append((outcome, item, created, acquisition))
    return results


def _append_custody(
    ports: ArchivePorts,
    tx: Transaction,
    prepared: PreparedBlob,
    item: EvidenceItem,
    acquisition: Acquisition,
    *,
    created: bool,
    new_acquisition: bool,
) -> None:
    request, extracted, mtime = prepared.request, prepared.extracted, prepared.mtime
    if created:
        tx.custody.append(
            ports.actor,
            "item.added",
            item.id,
            {"sha256": item.sha256, "size": item.size, "media_type": item.media_type},
        )
        if extracted is not None:
            tx.custody.append(
                ports.actor,
                "metadata.extracted",
                item.id,
                {
                    "extractor": extracted.extractor,
                    "version": extracted.version,
                    "status": extracted.status.value,
                    "data_sha256": prepared.metadata_sha256 or _data_sha256(extracted),
                },
            )
    if new_acquisition:
        tx.custody.append(
            ports.actor,
            "item.acquired",
            item.id,
            {
                "acquisition": acquisition.id,
                "sha256": item.sha256,
                "source_kind": request.source_kind,
                "source": request.source,
                "path": prepared.path,
                "original_name": prepared.name,
                "original_mtime": mtime.isoformat() if mtime else None,
                "note": request.note,
            },
        )
