"""Metadata read in the child process (processing.metadata_worker) is the metadata read in-process:
every file of the media corpus, broken ones included, with and without ExifTool. A child that
dies mid-request yields a FAILED record for that file, and the requests queued behind it go to a fresh
child. Requests are pipelined: each answer reaches its own caller."""

from __future__ import annotations

import os
import signal
from pathlib import Path

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
