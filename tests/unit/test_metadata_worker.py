"""Metadata read in the child process (processing.metadata_worker) is the metadata read in-process:
every file of the media corpus, broken ones included, with and without ExifTool. A child that
dies mid-request yields a FAILED record for that file, and the next request gets a fresh child."""

from __future__ import annotations

import os
import signal
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


def test_a_dead_child_fails_one_file_and_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tmp_path / "note.txt"
    text.write_text("a witness note")
    worker = MetadataProcess()
    try:
        worker.start()
        child = worker._process
        assert child is not None
        os.kill(child.pid, signal.SIGKILL)  # a reader crashing on hostile media, mid-request:
        child.wait()
        monkeypatch.setattr(child, "poll", lambda: None)  # it was alive when the request began
        failed = worker.extract(text, "text/plain")
        assert failed.status is MetadataStatus.FAILED and "metadata reader process ended" in (failed.error or "")
        assert worker.extract(text, "text/plain") == extract_metadata(text, "text/plain")
    finally:
        worker.close()
    assert worker._process is None
