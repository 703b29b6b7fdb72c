"""Views of restricted records are written by group commit (issue 7 performance): every caller
waits until its own custody entry is committed, entries that arrive during a write share the
next transaction, nothing is lost or duplicated under concurrency, and a failed write fails
every request whose entry it carried (none of them shows the record unlogged)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hujjat.bootstrap import open_archive
from hujjat.domain.errors import ArchiveError
from hujjat.services.access import ViewLog
from hujjat.services.audit import verify_archive
from hujjat.services.checkpoints import sign_checkpoint
from hujjat.services.context import ArchivePorts


class HeldUnitOfWork:
    """The archive's real unit of work, whose first write transaction waits for `release` (so
    that other callers queue meanwhile) and optionally fails; counts write transactions."""

    def __init__(self, uow: Any, fail_first: bool = False) -> None:
        self.uow, self.fail_first = uow, fail_first
        self.entered, self.release = threading.Event(), threading.Event()
        self.writes = 0

    @contextmanager
    def __call__(self, read_only: bool = False) -> Iterator[Any]:
        with self.uow(read_only) as tx:
            if not read_only:
                self.writes += 1
                first = self.writes == 1
                if first:
                    self.entered.set()
                    assert self.release.wait(20)
                yield tx
                if first and self.fail_first:
                    raise OSError("disk full")
            else:
                yield tx


def _viewed(ports: ArchivePorts) -> list[str]:
    with ports.uow(read_only=True) as tx:
        return [e.subject or "" for e in tx.custody.entries_for([f"subject-{i}" for i in range(40)])]


def _viewer(log: ViewLog, ports: ArchivePorts, errors: dict[str, BaseException | None]) -> Callable[[str], None]:
    """A page view as a thread runs it: the error it got (or None) lands in `errors`."""

    def view(subject: str) -> None:
        try:
            log.append(ports, "viewer", "record.viewed", subject, {})
            errors[subject] = None
        except (OSError, ArchiveError) as exc:
            errors[subject] = exc

    return view


def test_concurrent_views_share_transactions_and_are_all_logged(archive: Path) -> None:
    opened = open_archive(archive)
    try:
        held = HeldUnitOfWork(opened.ports.uow)
        ports = replace(opened.ports, uow=held)
        log = ViewLog()
        first = threading.Thread(target=log.append, args=(ports, "viewer", "record.viewed", "subject-0", {}))
        first.start()
        assert held.entered.wait(20)  # the first write is under way ...
        waiting = [threading.Thread(target=log.append, args=(ports, "viewer", "record.viewed", f"subject-{i}", {}))
                   for i in range(1, 30)]
        for t in waiting:
            t.start()
        while len(log._pending) < 29:  # ... while 29 more views queue behind it
            threading.Event().wait(0.01)
        assert _viewed(opened.ports) == []  # nothing committed yet: no caller has returned
        held.release.set()
        for t in [first, *waiting]:
            t.join(30)
            assert not t.is_alive()
        assert held.writes == 2  # one transaction for the first view, one for the 29 that queued
        assert sorted(_viewed(opened.ports)) == sorted(f"subject-{i}" for i in range(30))
        sign_checkpoint(opened.ports)  # as the server does now and then
        assert not verify_archive(opened.ports, quick=True).problems  # the chain is intact
    finally:
        opened.close()


def test_a_failed_write_fails_every_view_it_carried(archive: Path) -> None:
    opened = open_archive(archive)
    try:
        held = HeldUnitOfWork(opened.ports.uow, fail_first=True)
        ports = replace(opened.ports, uow=held)
        log = ViewLog()
        errors: dict[str, BaseException | None] = {}
        view = _viewer(log, ports, errors)

        first = threading.Thread(target=view, args=("subject-0",))
        first.start()
        assert held.entered.wait(20)
        held.release.set()
        first.join(30)
        assert isinstance(errors["subject-0"], OSError)  # its own failure, unchanged
        assert _viewed(opened.ports) == []  # rolled back: the page is not shown, and not logged either
        log.append(ports, "viewer", "record.viewed", "subject-1", {})  # the log works again afterwards
        assert _viewed(opened.ports) == ["subject-1"]
    finally:
        opened.close()


def test_followers_of_a_failed_write_get_an_error(archive: Path) -> None:
    opened = open_archive(archive)
    try:
        class FailSecond(HeldUnitOfWork):
            @contextmanager
            def __call__(self, read_only: bool = False) -> Iterator[Any]:
                with self.uow(read_only) as tx:
                    if not read_only:
                        self.writes += 1
                        if self.writes == 1:
                            self.entered.set()
                            assert self.release.wait(20)
                    yield tx
                    if not read_only and self.writes == 2:
                        raise OSError("disk full")

        held = FailSecond(opened.ports.uow)
        ports = replace(opened.ports, uow=held)
        log = ViewLog()
        errors: dict[str, BaseException | None] = {}
        view = _viewer(log, ports, errors)

        threads = [threading.Thread(target=view, args=("subject-0",))]
        threads[0].start()
        assert held.entered.wait(20)
        threads += [threading.Thread(target=view, args=(f"subject-{i}",)) for i in range(1, 6)]
        for t in threads[1:]:
            t.start()
        while len(log._pending) < 5:
            threading.Event().wait(0.01)
        held.release.set()
        for t in threads:
            t.join(30)
        assert errors["subject-0"] is None
        failed = [errors[f"subject-{i}"] for i in range(1, 6)]
        assert sum(isinstance(e, OSError) for e in failed) == 1  # the caller that wrote the batch
        assert sum(isinstance(e, ArchiveError) for e in failed) == 4  # the others it carried
        assert _viewed(opened.ports) == ["subject-0"]
    finally:
        opened.close()


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    before = threading.active_count()
    yield
    assert threading.active_count() <= before + 1
