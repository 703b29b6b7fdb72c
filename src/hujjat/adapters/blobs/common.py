"""What both blob store backends share: digest validation, the object layout, the hashing copy loop
and pid-tagged temporary files.

Kept in one place so the local folder and the S3 store name objects the same way
(`objects/ab/cd/<64 hex>`), refuse the same malformed digests, and stream and hash bytes with the
same constant-memory, one-pass loop.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import functools
import hashlib
import io
import mmap
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, cast

from hujjat.domain.errors import UsageError
from hujjat.ports import ProgressCallback

CHUNK_SIZE = 1 << 20
"""Bytes read, hashed and written per step: memory use stays constant whatever the object size."""

TEMP_SUFFIX = ".part"
_DIGEST = re.compile(r"[0-9a-f]{64}")
_TEMP_NAME = re.compile(r"([0-9]+)-[0-9a-f]+\.part")
_hash_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def check_digest(sha256: str) -> str:
    """Return `sha256` when it is exactly 64 lowercase hex digits, else raise a one-line error.

    Every path or key is built from a checked digest, so no reference can ever name anything
    outside the store (no `..`, slashes, NUL bytes or trailing newlines get through)."""
    if not isinstance(sha256, str) or not _DIGEST.fullmatch(sha256):
        raise UsageError(f"not a SHA-256 digest (64 lowercase hex digits): {sha256!r:.80}")
    return sha256


def object_parts(sha256: str) -> tuple[str, str, str]:
    """The relative location of an object below `objects/`: two fan-out folders and the name."""
    check_digest(sha256)
    return sha256[0:2], sha256[2:4], sha256


FANOUT_NAMES = frozenset(f"{value:02x}" for value in range(256))
"""The names a fan-out folder (`ab`, `cd`) can have."""


def is_digest(name: str) -> bool:
    return bool(_DIGEST.fullmatch(name))


def is_object_name(first: str, second: str, name: str) -> bool:
    """Whether `first/second/name` is where the layout puts an object called `name`."""
    return name[0:2] == first and name[2:4] == second and bool(_DIGEST.fullmatch(name))


def _pool() -> ThreadPoolExecutor:
    """The hashing threads, shared by every put in the process and made on first use."""
    global _hash_pool
    with _pool_lock:
        if _hash_pool is None:
            _hash_pool = ThreadPoolExecutor(
                max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="hash"
            )
        return _hash_pool


def _forget_pool_after_fork() -> None:
    """A forked child has none of its parent's threads: make it start a pool of its own."""
    global _hash_pool, _pool_lock
    _hash_pool = None
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def copy_hashing(
    source: BinaryIO, dest_fd: int, progress: ProgressCallback | None, *, direct_from: int | None = None
) -> tuple[str, int]:
    """Copy `source` to the open file descriptor in CHUNK_SIZE steps, hashing on the way; return
    (sha256 hex, size). A regular file of at least `direct_from` bytes is written around the page
    cache where the filesystem allows (see _copy_direct).

    One pass over the bytes, in this thread's two reused buffers (no per-chunk allocation or page
    faults). hashlib, os.write and file reads all release the GIL, so each chunk is hashed on a
    worker thread while this thread writes it and reads the next one into the other buffer: a
    large file uses two cores. `progress` receives the number of bytes just stored after each
    chunk (an increment, not a total).

    Which copy a file gets, by its size (measured on the 2 GiB ingest bench, bench/RESULTS.md):
    - at most one buffer (a photo): read into the reused buffer, hashed here, written buffered.
      It is read back at once for its metadata (from the page cache), and a direct write would be
      one synchronous disk write per file. Before, such files went through copy_file_range and
      were read back into a fresh bytes object to be hashed: an extra allocation per file.
    - at least `direct_from` (a video): direct writes, so no page cache is filled with bytes only
      a few headers of which are read again (filling fresh pages cost this VM 1.5-2.5 s of system
      time per GiB, more than the copy itself).
    - otherwise, or where O_DIRECT is refused: copied by the kernel (_copy_by_kernel).
    """
    size = _regular_size(source)
    copied = None
    if size is not None and size > CHUNK_SIZE:
        if direct_from is not None and size >= direct_from:
            copied = _copy_direct(source, dest_fd, progress)
        if copied is None:
            copied = _copy_by_kernel(source, dest_fd, progress)
    if copied is not None:
        return copied
    readinto = getattr(source, "readinto", None)
    if readinto is None:
        return _copy_hashing_by_read(source, dest_fd, progress)
    return _hash_while_writing(
        lambda buffer: int(readinto(buffer) or 0), _thread_buffers(), lambda chunk: _write_all(dest_fd, chunk), progress
    )


def _regular_size(source: BinaryIO) -> int | None:
    """The size of the regular file behind `source`, or None (a pipe, a buffer, no descriptor)."""
    fileno = getattr(source, "fileno", None)
    if fileno is None:
        return None
    try:
        status = os.fstat(int(fileno()))
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _hash_while_writing(
    read: Callable[[memoryview], int],
    views: tuple[memoryview, memoryview],
    write: Callable[[memoryview], None],
    progress: ProgressCallback | None,
) -> tuple[str, int]:
    """The double-buffered loop both copies share: `read` fills one buffer while the other's
    chunk is hashed on a pool thread and written. A file that fits one buffer (a photo) is hashed
    on this thread: handing it to the pool overlaps nothing and waking a pool thread per file cost
    more GIL time (py-spy --gil: 1.0-1.3 s per intake thread for 1,155 photos) than the hash
    itself, which runs without the GIL."""
    digest = hashlib.sha256()
    size = turn = 0
    pending: Future[None] | None = None
    try:
        while True:
            count = read(views[turn])  # the pending hash reads the other buffer
            if not count:
                break
            chunk = views[turn][:count]
            if pending is not None:
                pending.result()
                pending = None
            if count < CHUNK_SIZE and not size:
                digest.update(chunk)
            else:
                pending = _pool().submit(digest.update, chunk)
            write(chunk)
            size += count
            if progress is not None:
                progress(count)
            turn ^= 1
    finally:
        if pending is not None:
            pending.result()
    return digest.hexdigest(), size


DIRECT_ALIGN = 4096  # O_DIRECT wants offsets, lengths and buffer addresses aligned to the block size
_thread_local = threading.local()


def _copy_direct(source: BinaryIO, dest_fd: int, progress: ProgressCallback | None) -> tuple[str, int] | None:
    """Copy `source` with O_DIRECT writes from two reused, page-aligned buffers, each hashed on a
    worker thread while the other is written; None (nothing copied) where O_DIRECT is not on offer.

    Why: a page-cache copy makes the kernel find and fill fresh pages for every byte, then write
    them back at the batch's sync; measured here that cost 2-8 s of system time for 2 GiB (a VM
    that hands freed memory back to its host), the largest single cost of an ingest. A direct
    write goes from the buffer to the disk: the bytes hashed are exactly the bytes written, and the
    batch's syncfs only has the file's metadata and a short buffered tail left to flush. Buffers
    are filled completely before each write, so every write but the last starts aligned; the last
    partial block is written buffered. A filesystem that refuses a direct write mid-way (EINVAL)
    gets the rest buffered."""
    readinto = getattr(source, "readinto", None)
    if readinto is None or not _set_direct(dest_fd, True):
        return None
    direct = True

    def write(chunk: memoryview) -> None:
        nonlocal direct
        direct = _write_aligned(dest_fd, chunk, direct)

    return _hash_while_writing(lambda buffer: _fill(readinto, buffer), _thread_buffers(), write, progress)


def _thread_buffers() -> tuple[memoryview, memoryview]:
    """This thread's two CHUNK_SIZE buffers (anonymous mmaps are page-aligned, as direct writes
    need), made once: fresh memory per file would cost a page fault per 4 KiB."""
    views: tuple[memoryview, memoryview] | None = getattr(_thread_local, "views", None)
    if views is None:
        views = (memoryview(mmap.mmap(-1, CHUNK_SIZE)), memoryview(mmap.mmap(-1, CHUNK_SIZE)))
        _thread_local.views = views
    return views


def _fill(readinto: Callable[[memoryview], int | None], buffer: memoryview) -> int:
    """Read into `buffer` until it is full or the source ends; the number of bytes read."""
    filled = 0
    while filled < len(buffer):
        count = int(readinto(buffer[filled:]) or 0)
        if not count:
            break
        filled += count
    return filled


def _set_direct(fd: int, on: bool) -> bool:
    """Turn O_DIRECT on or off for `fd`; False where the platform or filesystem refuses."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | flag if on else flags & ~flag)
    except OSError:
        return False
    return True


def _write_aligned(fd: int, chunk: memoryview, direct: bool) -> bool:
    """Write `chunk` at the file's offset: its whole blocks directly while `direct`, the rest
    buffered. Returns whether the file is still in direct mode."""
    view = chunk
    while view:
        whole = len(view) - len(view) % DIRECT_ALIGN if direct else len(view)
        if direct and not whole:  # a partial last block: O_DIRECT cannot write it
            _set_direct(fd, False)
            direct = False
            continue
        try:
            view = view[os.write(fd, view[:whole]) :]
        except OSError as error:
            if not direct or error.errno != errno.EINVAL:
                raise
            _set_direct(fd, False)  # this filesystem or offset refuses direct writes
            direct = False
    return direct


KERNEL_CHUNK = 8 << 20
# copy_file_range errors that mean "not between these two files": fall back to read and write.
_NO_KERNEL_COPY = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF, errno.EPERM}


def _copy_by_kernel(
    source: BinaryIO, dest_fd: int, progress: ProgressCallback | None
) -> tuple[str, int] | None:
    """Copy a regular file with copy_file_range(2) and hash what was *written*, reading it back
    from the destination; None when the kernel cannot copy between these files (nothing copied).

    Measured here on a 280 MB file: read+write 0.72-0.89 s, copy_file_range 0.07-0.09 s plus 0.19 s
    to hash the copy from the page cache, the same work `cp` + `openssl` do. The digest is taken
    from the destination, which only this process writes (a fresh 0600 file), so the object's
    bytes are exactly the hashed bytes even if the source changes meanwhile; such a change is
    caught by the source's `finished(total)` check (length), as the read path catches it. Each
    chunk is hashed on a worker thread while the next one is copied."""
    fileno = getattr(source, "fileno", None)
    if fileno is None:
        return None
    try:
        src_fd = int(fileno())
        if not stat.S_ISREG(os.fstat(src_fd).st_mode):
            return None
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    digest = hashlib.sha256()
    size = 0
    pending: Future[None] | None = None
    try:
        while True:
            try:
                count = os.copy_file_range(src_fd, dest_fd, KERNEL_CHUNK)
            except OSError as error:
                if size == 0 and error.errno in _NO_KERNEL_COPY:
                    return None
                raise
            if not count:
                if size == 0:  # empty, or a file the kernel reports as empty (procfs, sysfs): read it
                    return None
                break
            if pending is not None:
                pending.result()
            pending = _pool().submit(_hash_written, digest, dest_fd, size, count)
            size += count
            if progress is not None:
                progress(count)
    finally:
        if pending is not None:
            pending.result()
    finished = getattr(source, "finished", None)
    if finished is not None:
        finished(size)
    return digest.hexdigest(), size


def _hash_written(digest: Any, fd: int, offset: int, count: int) -> None:
    """Hash `count` bytes of `fd` from `offset` (just written: read from the page cache)."""
    end = offset + count
    while offset < end:
        chunk = os.pread(fd, min(CHUNK_SIZE, end - offset), offset)
        if not chunk:
            raise OSError(errno.EIO, "the copy is shorter than what was written to it")
        digest.update(chunk)
        offset += len(chunk)


def _copy_hashing_by_read(
    source: BinaryIO, dest_fd: int, progress: ProgressCallback | None
) -> tuple[str, int]:
    """The same copy for sources that only offer read()."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        _write_all(dest_fd, chunk)
        size += len(chunk)
        if progress is not None:
            progress(len(chunk))
    return digest.hexdigest(), size


def _write_all(fd: int, data: memoryview | bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def temp_name() -> str:
    """`<pid>-<random>.part`: the pid lets clean-up tell a dead writer's leftovers from live work."""
    return f"{os.getpid()}-{secrets.token_hex(8)}{TEMP_SUFFIX}"


def open_temp(folder: Path) -> tuple[Path, int]:
    """Create a fresh, private temporary file in `folder` (made if missing); return path and fd."""
    while True:
        path = folder / temp_name()
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)  # read back: hashed after a kernel copy
        except FileExistsError:  # pragma: no cover - 64 random bits collided
            continue
        except FileNotFoundError:  # the folder is made on first use, not checked on every file
            folder.mkdir(parents=True, exist_ok=True)
            continue
        return path, fd


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (signal 0 tests without sending)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists but belongs to another user
    except OverflowError:
        return False
    return True


def stale_temp_files(folder: Path) -> Iterator[Path]:
    """Temporary files in `folder` whose writing process no longer runs. Names that do not follow
    the `<pid>-<random>.part` pattern are not ours and are left alone."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match and entry.is_file(follow_symlinks=False) and not pid_alive(int(match.group(1))):
            yield Path(entry.path)


def clean_temp_folder(folder: Path) -> int:
    """Remove dead writers' temporary files from `folder`; return how many went."""
    removed = 0
    for path in stale_temp_files(folder):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def _libc_function(name: str, argtypes: list[Any]) -> Any | None:
    """A libc function Python's os module lacks (Linux only), or None where there is none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to load
        return None
    function = getattr(libc, name, None)
    if function is None:  # pragma: no cover - not Linux
        return None
    function.argtypes = argtypes
    function.restype = ctypes.c_int
    return function


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    """syncfs(2): flush one filesystem."""
    return cast("Callable[[int], int] | None", _libc_function("syncfs", [ctypes.c_int]))


_SYNC_FILE_RANGE_WRITE = 2  # linux/fs.h: start write-out of dirty pages, do not wait


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """sync_file_range(2): start writing one file's dirty pages."""
    argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    return cast("Callable[[int, int, int, int], int] | None", _libc_function("sync_file_range", argtypes))


def start_writeback(fd: int) -> None:
    """Ask the kernel to start writing the file's dirty pages now, without waiting (best effort).

    Why: a staged file is only made durable by its batch's syncfs; left alone, its pages stay
    dirty until then (2 GiB is below the kernel's own write-back threshold here), so the disk
    idled while files were copied and then the recording thread waited for each batch's bytes.
    Started per file, the write-out runs beside the copying, as `cp`'s pages do under `sync`."""
    function = _sync_file_range()
    if function is not None:
        function(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)  # a failure only leaves the work to syncfs


def sync_filesystem(folder: Path) -> None:
    """Make everything written to the filesystem holding `folder` durable: data, new names and
    folders. syncfs(2) where there is one; os.sync() (every filesystem) elsewhere."""
    function = _syncfs()
    if function is None:  # pragma: no cover - not Linux
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if function(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"syncfs failed: {os.strerror(code)}", str(folder))
    finally:
        os.close(fd)
