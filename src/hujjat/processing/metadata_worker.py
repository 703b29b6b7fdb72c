"""Metadata extraction in a child process, for large intakes.

Why: Pillow's tag parsing and the value rules are pure Python, so on intake's worker threads they
hold the GIL the recording thread needs (about 2 ms a photo, as much CPU as recording it). A child
process (`python -m hujjat.processing.metadata_worker`) runs them on another core. Only the path
and the media type travel; the child reads the store's copy itself and answers with the
MetadataRecord, pickled, over its own pipes (the parent's child, so the pickle is trusted).
The child imports only the readers, not the CLI. If it dies (a reader crashing on hostile
media), that file's record says so and the next request starts a fresh child.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from hujjat.domain.evidence import MetadataRecord, MetadataStatus

_LENGTH = 8  # bytes of the big-endian length before each pickled message


class MetadataProcess:
    """One child process serving `extract` requests, one at a time; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._version = "unknown"
        self._ready = False  # whether the child's version message was read

    def start(self) -> None:
        """Start the child now, without waiting for it: its imports (~0.5 s) overlap the parent's
        copying of the first files instead of delaying it."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._spawn()

    def extract(self, path: Path, media_type: str) -> MetadataRecord:
        """What extract_metadata(path, media_type) returns, computed in the child; never raises."""
        with self._lock:
            try:
                process = self._ensure()
                assert process.stdin is not None and process.stdout is not None
                send(process.stdin, (str(path), media_type))
                record = receive(process.stdout)
            except (OSError, EOFError, pickle.UnpicklingError) as error:
                status = self._stop()
                return MetadataRecord(
                    "hujjat.metadata",
                    self._version,
                    MetadataStatus.FAILED,
                    {},
                    f"metadata reader process ended (status {status}): {error}",
                )
        if not isinstance(record, MetadataRecord):  # pragma: no cover - only a broken child answers otherwise
            raise TypeError(f"metadata worker answered {type(record).__name__}")
        return record

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _spawn(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )
        self._ready = False

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._spawn()
        assert self._process is not None and self._process.stdout is not None
        if not self._ready:  # the child's first message, sent once its readers are imported
            self._version = str(receive(self._process.stdout))
            self._ready = True
        return self._process

    def _stop(self) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        try:
            return process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


def send(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(_LENGTH, "big") + data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    header = _read_exactly(stream, _LENGTH)
    return pickle.loads(_read_exactly(stream, int.from_bytes(header, "big")))  # noqa: S301 - our own child


def _read_exactly(stream: IO[bytes], count: int) -> bytes:
    parts: list[bytes] = []
    while count:
        part = stream.read(count)
        if not part:
            raise EOFError("the metadata worker's pipe closed")
        parts.append(part)
        count -= len(part)
    return b"".join(parts)


def serve() -> None:
    """The child's loop: answer each (path, media_type) with its record until input ends. Its
    replies go to a private copy of stdout; fd 1 is pointed at stderr, so a library that prints
    cannot corrupt them."""
    from hujjat.processing.metadata import extract_metadata, extractor_version

    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    send(replies, extractor_version())
    while True:
        try:
            path, media_type = receive(requests)
        except EOFError:
            return
        send(replies, extract_metadata(Path(path), media_type))


if __name__ == "__main__":
    serve()
