"""Search indexing in a second process, for long imports on a machine with a spare core.

Analysing text for the index (language identification, normalisation, stemming) is CPU work that
would otherwise run on the importer's recording thread. `ProcessIndexer` (a
services.telegram_import.RecordIndexer) hands each committed batch of record ids to one spawned
worker that opens the same archive and runs `services.search.refresh_records`, i.e. reads the
committed rows and writes the index, exactly as the inline path does. The database serialises
the two processes' writes (SQLite: BEGIN IMMEDIATE + busy_timeout; PostgreSQL: row locks); the
index is derived data, never a custody event. At most `backlog` batches wait, so memory stays flat
and a killed import leaves at most that many batches for `hujjat reindex`.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.connection import wait
from pathlib import Path

from hujjat.bootstrap import Archive, open_archive
from hujjat.services.search import refresh_records

BACKLOG = 4
MIN_RECORDS = 5_000  # below this, starting an interpreter (about a second) costs more than it saves

_archive: list[Archive] = []  # the worker's own archive, opened once by _open


def _open(root: str, actor: str) -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    _archive.append(open_archive(Path(root), actor))


def _exit_with(parent_sentinel: int) -> None:
    """The importer was killed outright: stop too, instead of waiting for work forever (a write
    in progress is rolled back by the database; `hujjat reindex` adds what is missing)."""
    wait([parent_sentinel])
    os._exit(1)


def _refresh(kind: str, record_ids: list[str]) -> int:
    return refresh_records(_archive[0].ports, kind, record_ids)


def worth_a_process(archive: Archive, records: int) -> bool:
    """Enough records to gain, a spare core, and an archive a worker can open unattended (not one a
    secret unlocks: it would ask for it)."""
    spare = (os.cpu_count() or 1) > 1
    unattended = archive.ports.search is not None and "encryption" not in archive.config.extra
    return records >= MIN_RECORDS and spare and unattended


class ProcessIndexer:
    def __init__(self, archive: Archive, backlog: int = BACKLOG) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of this process's open connections
        root, actor = str(archive.config.root), archive.ports.actor
        self.pool = ProcessPoolExecutor(1, mp_context=context, initializer=_open, initargs=(root, actor))
        self.pending: deque[Future[int]] = deque()
        self.backlog = backlog

    def refresh(self, kind: str, record_ids: list[str]) -> None:
        self.pending.append(self.pool.submit(_refresh, kind, list(record_ids)))
        while len(self.pending) > self.backlog:
            self.pending.popleft().result()

    def finish(self) -> None:
        while self.pending:
            self.pending.popleft().result()

    def close(self) -> None:
        """Let queued batches (committed posts) be indexed, then stop the worker."""
        self.pool.shutdown(wait=True)

    def __enter__(self) -> ProcessIndexer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
