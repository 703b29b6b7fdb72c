"""ExifTool (Debian's `libimage-exiftool-perl`) as a supplementary metadata reader.

ExifTool reads atoms and maker notes no Python library does (some QuickTime location atoms,
Matroska headers FFmpeg refuses), and gives the fullest tag dump, stored under `raw.exiftool`.
It is optional: when the `exiftool` program is absent, or HUJJAT_EXIFTOOL=0, nothing fails.
HUJJAT_EXIFTOOL chooses when it runs (`mode()`): `auto` (the default) for what the Python readers
cannot fully read (video, audio, documents, images Pillow failed on), `always` (or `1`) for every
file, `off` (or `0`) never. An ExifTool request costs ~6-9 ms of Perl a file, more than everything
else metadata extraction of a photo does, which is why complete photos skip it by default.

Starting Perl costs ~75 ms a file, so one `exiftool -stay_open` process per Python process
serves every request over a pipe (a few ms each). Each request has a deadline; a hung process
is killed and a fresh one starts with the next request; a watcher ends it when the Python
process dies, even by SIGKILL. The dump is parsed with floats kept as
their exact decimal text, because stored metadata must be free of floats (canonical JSON).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import selectors
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

TIMEOUT_S = 30.0
# Per-file facts about the copy on disk, not about the evidence bytes: left out of the dump.
_DROPPED_GROUPS = ("System:", "ExifTool:ExifToolVersion")
# `exiftool -stay_open` keeps waiting after its input closes, so a parent killed with SIGKILL
# would leave it running forever. This shell runs it with a watcher that ends it once the parent
# process is gone (checked every second); the shell itself exits as soon as exiftool does.
# (A background command's input is /dev/null unless redirected, hence the copy on fd 3.)
_WATCHDOG = (
    'parent=$PPID; exec 3<&0; "$0" -stay_open True -@ - <&3 3<&- & tool=$!; exec 3<&-; '
    '( while kill -0 "$parent" && kill -0 "$tool"; do sleep 1; done; kill "$tool" ) </dev/null >/dev/null 2>&1 & '
    'wait "$tool"'
)
_ARGS = ("-j", "-G1", "-n", "-api", "LargeFileSupport=1", "-charset", "filename=utf8")


class ExifToolError(Exception):
    """ExifTool could not read the file or did not answer; the message is one line."""


MODES = ("auto", "always", "off")


def mode() -> str:
    """When ExifTool runs, from HUJJAT_EXIFTOOL: `auto`, `always` or `off` (see the module text)."""
    value = os.environ.get("HUJJAT_EXIFTOOL", "auto").strip().lower()
    if value in ("0", "off", "no", "false"):
        return "off"
    if value in ("1", "always", "yes", "true", "on"):
        return "always"
    return "auto"


def executable() -> str | None:
    """The exiftool program to use, or None when it is absent or turned off."""
    if mode() == "off":
        return None
    return _which(os.environ.get("PATH", ""))


@functools.lru_cache(maxsize=8)
def _which(path: str) -> str | None:
    """shutil.which, remembered per PATH: it stats every PATH folder, once per file ingested."""
    return shutil.which("exiftool", path=path)


class ExifTool:
    """One long-running `exiftool -stay_open True -@ -` process, safe to share between threads."""

    def __init__(self, program: str, timeout: float = TIMEOUT_S) -> None:
        self.program = program
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._counter = 0
        self._version: str | None = None

    def version(self) -> str:
        if self._version is None:
            result = subprocess.run(
                [self.program, "-ver"], capture_output=True, timeout=self.timeout, check=False
            )
            self._version = result.stdout.decode("ascii", "replace").strip() or "unknown"
        return self._version

    def dump(self, path: Path) -> dict[str, Any]:
        """Every tag of the file at `path` as exiftool -j -G1 -n prints it, floats as strings."""
        target = str(path.resolve())
        if "\n" in target or "\r" in target:
            output = self._run_once(target)
        else:
            with self._lock:
                output = self._request(target)
        return _parse(output)

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _run_once(self, target: str) -> bytes:
        try:
            result = subprocess.run(
                [self.program, *_ARGS, "--", target], capture_output=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise ExifToolError(f"exiftool did not answer within {self.timeout:.0f} s") from error
        return result.stdout

    def _request(self, target: str) -> bytes:
        process = self._ensure_started()
        assert process.stdin is not None and process.stdout is not None
        self._counter += 1
        marker = f"{{ready{self._counter}}}".encode()
        request = "\n".join((*_ARGS, target, f"-execute{self._counter}", ""))
        try:
            process.stdin.write(request.encode("utf-8"))
            process.stdin.flush()
            return _read_until(process.stdout, marker, self.timeout)
        except (OSError, ExifToolError) as error:
            self._stop(kill=True)
            if isinstance(error, ExifToolError):
                raise
            raise ExifToolError(f"exiftool process failed: {error}") from error

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                ["/bin/sh", "-c", _WATCHDOG, self.program],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so a kill reaches all of it
            )
        return self._process

    def _stop(self, kill: bool = False) -> None:
        """End the process: politely (`-stay_open False`), or at once when it misbehaved."""
        process, self._process = self._process, None
        if process is None:
            return
        if not kill:
            try:
                if process.poll() is None and process.stdin is not None:
                    process.stdin.write(b"-stay_open\nFalse\n")
                    process.stdin.close()
                process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                kill = True
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):  # flushing to a dead process: broken pipe
                    stream.close()


def _read_until(stream: IO[bytes], marker: bytes, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    buffer = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while not buffer.rstrip().endswith(marker):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise ExifToolError(f"exiftool did not answer within {timeout:.0f} s")
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                raise ExifToolError("exiftool exited unexpectedly")
            buffer.extend(chunk)
    return bytes(buffer.rstrip()[: -len(marker)])


def _parse(output: bytes) -> dict[str, Any]:
    text = output.decode("utf-8", "replace").strip()
    if not text:
        raise ExifToolError("exiftool read nothing from the file")
    try:
        parsed = json.loads(text, parse_float=str, parse_constant=str)
    except json.JSONDecodeError as error:
        raise ExifToolError(f"exiftool output unreadable: {error}") from error
    if not isinstance(parsed, list) or not parsed or not isinstance(parsed[0], dict):
        raise ExifToolError("exiftool output is not one JSON object")
    record: dict[str, Any] = parsed[0]
    record.pop("SourceFile", None)
    failure = record.get("ExifTool:Error")
    if isinstance(failure, str):
        raise ExifToolError(f"exiftool: {failure}")
    return {key: value for key, value in record.items() if not key.startswith(_DROPPED_GROUPS)}


_shared: tuple[int, ExifTool] | None = None
_shared_lock = threading.Lock()


def shared() -> ExifTool | None:
    """This process's ExifTool, started on first use; None when exiftool is unavailable.

    A forked child gets its own process rather than sharing its parent's pipes.
    """
    global _shared
    program = executable()
    if program is None:
        return None
    with _shared_lock:
        if _shared is None or _shared[0] != os.getpid() or _shared[1].program != program:
            _shared = (os.getpid(), ExifTool(program))
        return _shared[1]


@atexit.register
def _close_shared() -> None:
    """At exit the process group is killed, not asked to stop: nothing is pending, and waiting for
    Perl to wind down kept the metadata child, which `hujjat add` waits for, 10-50 ms longer."""
    if _shared is not None and _shared[0] == os.getpid():
        tool = _shared[1]
        with tool._lock:
            tool._stop(kill=True)
