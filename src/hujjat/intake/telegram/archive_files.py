"""The export on disk: find `result.json` in a folder or a zip, and resolve media paths safely.

A zip is unpacked into a private temporary folder with limits: entries with absolute paths, `..`
components or drive letters, symlink entries, encrypted entries, entries that decompress beyond
their declared size or past an absurd ratio are skipped (with the reason); too many entries or too
large a total is refused before anything is written. A media path that escapes the export folder
(absolute, `..`, or a symlink leading out) is never opened: it is reported as refused.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hujjat.domain.errors import HujjatError
from hujjat.domain.posts import MediaLocation, MediaStatus

RESULT_NAME = "result.json"
CHUNK = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


class ExportError(HujjatError):
    """The export cannot be read (not found, not JSON, unsafe or broken zip)."""


@dataclass(frozen=True)
class ExportLimits:
    max_entries: int = 2_000_000
    max_total_bytes: int = 256 * 1024**3
    max_entry_bytes: int = 64 * 1024**3
    max_ratio: int = 1000  # uncompressed / compressed, for entries over ratio_floor_bytes
    ratio_floor_bytes: int = 16 * 1024 * 1024


def unsafe_name(name: str) -> str | None:
    """Why an archive member name or media path may not be used, or None when it is safe."""
    if not name or "\x00" in name:
        return "empty or NUL in the path"
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        return "absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "path escapes the export folder (..)"
    return None


def locate(root: Path, relative: str) -> MediaLocation:
    """Resolve a media path written in result.json, staying inside `root` (already resolved)."""
    problem = unsafe_name(relative)
    if problem:
        return MediaLocation(None, MediaStatus.REFUSED, problem)
    candidate = root / PurePosixPath(relative.replace("\\", "/"))
    if not os.path.lexists(candidate):
        return MediaLocation(None, MediaStatus.MISSING, "file referenced by the export is not on disk")
    try:
        real = candidate.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        return MediaLocation(None, MediaStatus.MISSING, "symlink to nothing")
    except OSError as exc:
        return MediaLocation(None, MediaStatus.FAILED, exc.strerror or str(exc))
    if not real.is_relative_to(root):
        return MediaLocation(None, MediaStatus.REFUSED, "symlink leads outside the export folder")
    try:
        mode = real.stat().st_mode
    except OSError as exc:
        return MediaLocation(None, MediaStatus.FAILED, exc.strerror or str(exc))
    if not stat.S_ISREG(mode):
        return MediaLocation(None, MediaStatus.REFUSED, "not a regular file")
    return MediaLocation(real)


def find_result(path: Path) -> Path:
    """`result.json` itself, or the shallowest one inside a folder (exports are often zipped
    with their `ChatExport_…` folder around them)."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise ExportError(f"{path}: no such file or folder")
    for depth in range(3):
        found = sorted(path.glob("/".join(["*"] * depth + [RESULT_NAME])))
        found = [f for f in found if f.is_file() and not f.is_symlink()]
        if len(found) > 1:
            raise ExportError(f"{path} holds {len(found)} exports ({found[0]}, {found[1]}, …): name one")
        if found:
            return found[0]
    raise ExportError(f"{path} holds no {RESULT_NAME}: is it a Telegram Desktop JSON export?")


def _member_problem(info: zipfile.ZipInfo, limits: ExportLimits) -> str | None:
    problem = unsafe_name(info.filename)
    if problem:
        return problem
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symlink entries are not extracted"
    if info.flag_bits & 0x1:
        return "encrypted entry"
    if info.file_size > limits.max_entry_bytes:
        return f"declares {info.file_size} bytes, over the {limits.max_entry_bytes}-byte limit"
    if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        return f"compression ratio over {limits.max_ratio}:1 (a zip bomb?)"
    return None


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> str | None:
    """Copy one member, never more than it declared nor than the remaining budget."""
    allowed = min(info.file_size, budget)
    written = 0
    try:
        with zf.open(info) as source, target.open("xb") as out:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > allowed:
                    raise ExportError("decompresses beyond its declared size or the total limit")
                out.write(chunk)
    except (ExportError, zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        target.unlink(missing_ok=True)
        return str(exc) or type(exc).__name__
    return None


def extract_zip(zip_path: Path, dest: Path, limits: ExportLimits) -> list[str]:
    """Unpack what is safe; return 'name: reason' for every member skipped."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExportError(f"{zip_path}: not a readable zip file ({exc})") from None
    skipped: list[str] = []
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise ExportError(f"{zip_path}: {len(infos)} entries, over the limit of {limits.max_entries}")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_total_bytes:
            raise ExportError(f"{zip_path}: would unpack to {declared} bytes, over the limit")
        budget = limits.max_total_bytes
        root = dest.resolve()
        for info in infos:
            problem = _member_problem(info, limits)
            target = root / PurePosixPath(info.filename.replace("\\", "/"))
            if problem is None and not target.resolve().is_relative_to(root):
                problem = "path escapes the export folder"
            if problem is None and info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if problem is None:
                target.parent.mkdir(parents=True, exist_ok=True)
                problem = _copy_member(zf, info, target, budget)
                budget -= info.file_size
            if problem:
                skipped.append(f"{info.filename}: {problem}")
    return skipped


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
