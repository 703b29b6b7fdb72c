"""Metadata extraction in a child process, for large intakes.

Why: Pillow's tag parsing and the value rules are pure Python, so on intake's worker threads they
hold the GIL the recording thread needs (about 2 ms a photo, as much CPU as recording it). A child
process (`python -m hujjat.processing.metadata_worker`) runs them on another core. Only the path
and the media type travel; the child reads the store's copy itself and answers with the
MetadataRecord, pickled, over its own pipes (the parent's child, so the pickle is trusted).
The child imports only the readers, not the CLI. If it dies (a reader crashing on hostile
media), that file's record says so and the requests queued behind it go to a fresh child.
"""

from __future__ import annotations

import atexit
import gc
import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from hujjat.domain.evidence import MetadataRecord, MetadataStatus

_LENGTH = 8  # bytes of the big-endian length before each pickled message


_early: tuple[MetadataProcess, dict[str, str]] | None = None  # see start_early


def start_early() -> None:
    """Start a child now for this process's next `MetadataProcess.adopt()`. `hujjat add` calls it
    before its own imports: the child's imports (~0.3 s) then run on the other core while the
    parent's (~0.5 s, one core) run, instead of after them, delaying the first file's metadata.
    A child never adopted is killed at exit."""
    global _early
    if _early is None:
        process = MetadataProcess()
        try:
            process.start()
        except OSError:  # no child can start: adopt() makes a process that reports why, per file
            return
        _early = (process, dict(os.environ))
        atexit.register(_kill_unadopted)


def _kill_unadopted() -> None:
    global _early
    early, _early = _early, None
    if early is not None:
        early[0]._kill()


class MetadataProcess:
    """One child process serving `extract` requests; safe to share between threads.

    Requests are pipelined: a caller writes its request and waits only for its own answer, which
    a reader thread hands back (the child answers in order). Before, one request at a time held a
    lock across the whole round trip, so the child idled while each answer travelled back and its
    caller waited for the interpreter lock; with four intake threads that round trip, not the
    readers' work, set the pace of a photo intake."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # held while a request is written and while the child changes
        self._child: _Child | None = None
        self._version = "unknown"

    @classmethod
    def adopt(cls) -> MetadataProcess:
        """The process start_early() started, if the environment its child inherited is still
        this process's (the archive's `[metadata] exiftool` mode is passed in it), else a new one."""
        global _early
        early, _early = _early, None
        if early is not None:
            if early[1] == dict(os.environ):
                return early[0]
            early[0]._kill()
        return cls()

    def _kill(self) -> None:
        """End an unused child at once (close() would wait for it to finish importing)."""
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            child.process.kill()
            child.stop()

    def start(self) -> None:
        """Start the child now, without waiting for it: its imports (~0.5 s) overlap the parent's
        copying of the first files instead of delaying it."""
        with self._lock:
            self._running()

    def extract(self, path: Path, media_type: str) -> MetadataRecord:
        """What extract_metadata(path, media_type) returns, computed in the child; never raises."""
        return self.submit(path, media_type).result()

    def submit(self, path: Path, media_type: str) -> Future[MetadataRecord]:
        """Send one request and return at once; its answer (a FAILED record if the child dies on
        it or cannot start) completes the future."""
        future: Future[MetadataRecord] = Future()
        self._send(future, (str(path), media_type))
        return future

    def close(self) -> None:
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            child.stop()

    def _send(self, future: Future[MetadataRecord], request: tuple[str, str]) -> None:
        with self._lock:
            try:
                child = self._running()
            except OSError as error:  # no child process could be started
                future.set_result(self._failed(None, error))
                return
            child.pending.append((future, request))  # in the order the child will answer
            try:
                assert child.process.stdin is not None
                send(child.process.stdin, request)
            except (OSError, ValueError):  # the child is gone: its reader sees its pipe end and re-sends
                pass

    def _running(self) -> _Child:
        if self._child is None or self._child.ended:
            self._child = _Child(self)
        return self._child

    def _ended(self, child: _Child, error: BaseException) -> None:
        """The child's pipe ended or broke. The request it was serving (the oldest unanswered)
        fails; the ones queued behind it go to a fresh child."""
        with self._lock:
            if self._child is child:
                self._child = None
            pending = list(child.pending)
            child.pending.clear()
        status = child.stop()
        if not pending:
            return
        (first, _), rest = pending[0], pending[1:]
        first.set_result(self._failed(status, error))
        for future, request in rest:
            self._send(future, request)

    def _failed(self, status: int | None, error: BaseException) -> MetadataRecord:
        return MetadataRecord(
            "hujjat.metadata",
            self._version,
            MetadataStatus.FAILED,
            {},
            f"metadata reader process ended (status {status}): {error}",
        )


class _Child:
    """One child process, the requests it has not answered yet, and the thread reading its answers."""

    def __init__(self, owner: MetadataProcess) -> None:
        self.owner = owner
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )
        self.pending: deque[tuple[Future[MetadataRecord], tuple[str, str]]] = deque()
        self.ended = False
        self.reader = threading.Thread(target=self._read, name="metadata-reader", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        try:
            self.owner._version = str(receive(stream))  # the child's first message, once its readers are imported
            while True:
                record = receive(stream)
                if not isinstance(record, MetadataRecord):  # only a broken child answers otherwise
                    raise pickle.UnpicklingError(f"the metadata worker answered {type(record).__name__}")
                future, _ = self.pending.popleft()
                future.set_result(record)
        except (OSError, EOFError, pickle.UnpicklingError, IndexError) as error:  # IndexError: an answer unasked
            self.ended = True
            self.owner._ended(self, error)

    def stop(self) -> int | None:
        """Close the child's input (it exits at the end of its requests) and wait for it."""
        self.ended = True
        process = self.process
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()
        try:
            status = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            status = process.wait()
        if threading.current_thread() is not self.reader:
            self.reader.join()
        if process.stdout is not None:
            process.stdout.close()
        return status


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
            gc.freeze()  # the parent waits for this exit: skip the final collections (see cli.main.run)
            return
        send(replies, extract_metadata(Path(path), media_type))


if __name__ == "__main__":
    serve()
