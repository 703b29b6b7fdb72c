"""Metadata read in the child process (processing.metadata_worker) is the metadata read in-process:
every file of the media corpus, broken ones included, with and without ExifTool. A child that
dies mid-request yields a FAILED record for that file, and the requests queued behind it go to a fresh
child. Requests are pipelined: each answer reaches its own caller."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hujjat.domain.evidence import MetadataStatus
from hujjat.processing.metadata import detect_media_type, extract_metadata
from hujjat.processing.metadata_worker import MetadataProcess
from tests.unit.metadata_support import exiftool_mode, media_files, needs_corpus

__all__ = ["exiftool_mode"]


@needs_corpus
def test_child_reads_exactly_what_the_process_reads(exiftool_mode: bool) -> None:
    worker = MetadataProcess()
    try:
        for path in media_files():
            media_type = detect_media_type(path)
            assert worker.extract(path, media_type) == extract_metadata(path, media_type), path.name
    finally:
        worker.close()


def test_a_dead_child_fails_one_file_and_the_queued_ones_go_to_a_fresh_child(tmp_path: Path) -> None:
    """The child dies while reading a file (a FIFO nobody writes keeps it there, as a reader stuck
    on hostile media would be): that request gets a FAILED record, the two queued behind it are
    answered by a fresh child, and later requests too."""
    stuck = tmp_path / "stuck.jpg"
    os.mkfifo(stuck)
    text = tmp_path / "note.txt"
    text.write_text("a witness note")
    worker = MetadataProcess()
    try:
        first = worker.submit(stuck, "image/jpeg")
        queued = [worker.submit(text, "text/plain") for _ in range(2)]
        child = worker._child
        assert child is not None and not first.done()
        os.kill(child.process.pid, signal.SIGKILL)
        failed = first.result(timeout=30)
        assert failed.status is MetadataStatus.FAILED and "metadata reader process ended" in (failed.error or "")
        expected = extract_metadata(text, "text/plain")
        assert [future.result(timeout=30) for future in queued] == [expected, expected]
        assert worker._child is not None and worker._child is not child
        assert worker.extract(text, "text/plain") == expected
    finally:
        worker.close()
    assert worker._child is None


def test_requests_are_answered_in_order_while_more_are_sent(tmp_path: Path) -> None:
    """Many callers' requests in flight at once each get their own file's record."""
    files = []
    for index in range(40):
        path = tmp_path / f"note{index}.txt"
        path.write_text(f"note {index} " * index)
        files.append(path)
    worker = MetadataProcess()
    try:
        futures = [worker.submit(path, "text/plain") for path in files]
        assert [future.result(timeout=60) for future in futures] == [
            extract_metadata(path, "text/plain") for path in files
        ]
    finally:
        worker.close()


def test_an_early_child_is_adopted_and_one_never_adopted_is_killed_at_exit(tmp_path: Path) -> None:
    """start_early() starts the child at once; the next adopt() takes over that very child while
    the environment it inherited holds, else kills it and starts a fresh one; a program that never
    adopts it leaves no child behind when it exits."""
    from hujjat.processing import metadata_worker

    text = tmp_path / "note.txt"
    text.write_text("a witness note")
    metadata_worker.start_early()
    early = metadata_worker._early
    assert early is not None and early[0]._child is not None
    child = early[0]._child
    adopted = MetadataProcess.adopt()
    try:
        assert adopted is early[0] and adopted._child is child and metadata_worker._early is None
        assert adopted.extract(text, "text/plain") == extract_metadata(text, "text/plain")
    finally:
        adopted.close()

    metadata_worker.start_early()
    early = metadata_worker._early
    assert early is not None and early[0]._child is not None
    stale = early[0]._child.process
    os.environ["HUJJAT_EXIFTOOL_TEST_MARK"] = "changed"
    try:
        fresh = MetadataProcess.adopt()
    finally:
        del os.environ["HUJJAT_EXIFTOOL_TEST_MARK"]
    try:
        assert fresh is not early[0] and stale.poll() == -signal.SIGKILL
    finally:
        fresh.close()

    program = (
        "import os, sys\n"
        "from hujjat.processing import metadata_worker\n"
        "metadata_worker.start_early()\n"
        "print(metadata_worker._early[0]._child.process.pid, flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True)
    pid = int(done.stdout)
    with pytest.raises(ProcessLookupError):  # killed and reaped by the exiting program
        os.kill(pid, 0)


def test_start_early_work_only_for_the_add_program() -> None:
    from hujjat.entrypoints.cli.early import start_early_work
    from hujjat.processing import metadata_worker

    for argv in (["/usr/bin/hujjat", "show", "x"], ["pytest", "add"], ["/venv/bin/hujjat"]):
        start_early_work(argv)
        assert metadata_worker._early is None, argv
    start_early_work(["/venv/bin/hujjat", "add", "photos"])
    try:
        assert metadata_worker._early is not None
    finally:
        metadata_worker._kill_unadopted()
    assert metadata_worker._early is None
