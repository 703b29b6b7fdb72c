"""Turning the paths a user names into the regular files to ingest, with a reason for each skip.

Folders are walked without following symlinked folders (so a symlink loop cannot trap the walk);
symlinks to files are followed; FIFOs, sockets and devices are skipped because reading them can
block forever or yield endless bytes.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Candidate:
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Skip:
    path: Path
    reason: str


def _classify(path: Path) -> Candidate | Skip:
    try:
        st = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Skip(path, "symlink loop")
        if exc.errno == errno.ENOENT:
            return Skip(path, "no such file (or a broken symlink)")
        if exc.errno == errno.EACCES:
            return Skip(path, "permission denied")
        return Skip(path, exc.strerror or str(exc))
    if stat.S_ISREG(st.st_mode):
        return Candidate(path, st.st_size, st.st_mtime_ns)
    if stat.S_ISDIR(st.st_mode):
        return Skip(path, "folder")
    kind = "FIFO" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode) else "device"
    return Skip(path, f"special file ({kind}) not ingested")


def walk(paths: Iterable[Path]) -> Iterator[Candidate | Skip]:
    for top in paths:
        if (top.is_dir() and not top.is_symlink()) or (top.is_symlink() and top.is_dir()):
            yield from _walk_dir(top)
        else:
            found = _classify(top)
            if isinstance(found, Skip) and found.reason == "folder":
                yield from _walk_dir(top)
            else:
                yield found


def _walk_dir(top: Path) -> Iterator[Candidate | Skip]:
    errors: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(top, onerror=errors.append, followlinks=False):
        base = Path(dirpath)
        dirnames.sort()
        for name in list(dirnames):
            if (base / name).is_symlink():
                dirnames.remove(name)
                yield Skip(base / name, "symlinked folder not followed (could loop)")
        for name in sorted(filenames):
            yield _classify(base / name)
        while errors:
            err = errors.pop()
            yield Skip(Path(err.filename or dirpath), err.strerror or str(err))
