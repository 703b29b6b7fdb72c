"""The local folder blob store: content-addressed, write-once files under one root folder.

Layout: `root/objects/ab/cd/<64 hex sha256>` holds each object, read-only (0o444);
`root/tmp/<pid>-<random>.part` holds writes in progress. Both sit on the same filesystem, so an
object appears under its real name in one atomic step (a hard link, or a rename where links are
not supported) only after its bytes were hashed, written and made durable: by an fsync of the
file for `put`, by one sync of the whole filesystem for a batch (`stage` then `publish`). A crash leaves at worst a
`.part` file, which `clean_temporary` removes once its writer is gone and which is never listed
as an object.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from hujjat.adapters.blobs.common import (
    FANOUT_NAMES,
    check_digest,
    clean_temp_folder,
    copy_hashing,
    is_digest,
    object_parts,
    open_temp,
    remove_quietly,
    start_writeback,
    sync_filesystem,
)
from hujjat.domain.errors import IntegrityError
from hujjat.domain.evidence import StoredBlob
from hujjat.ports import ProgressCallback, StagedBlob

OBJECT_MODE = 0o444
DIRECT_FROM = 8 << 20
"""Files of at least this size are written with O_DIRECT by default (a video, not a photo)."""
# Errors os.link gives on filesystems without hard links (some FUSE, SMB and FAT mounts).
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS, errno.EMLINK}


def _fsync_dir(folder: Path) -> None:
    """Make a directory entry change (a new name, a new subfolder) durable."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms that cannot open directories
        return
    try:
        with contextlib.suppress(OSError):  # some filesystems refuse fsync on directories
            os.fsync(fd)
    finally:
        os.close(fd)


class LocalFolderStore:
    """A `BlobStore` in a folder of the local filesystem."""

    def __init__(self, root: Path, *, direct_from: int | None = DIRECT_FROM) -> None:
        """`direct_from`: files of at least this many bytes are written around the page cache
        (blobs.common.copy_hashing); None: never. Videos, not photos: a photo is read back at
        once for its metadata, and one synchronous disk write per small file ran 1.5-3x slower
        than the kernel's write-back on this VM (bench/RESULTS.md), while a large file's direct
        writes spare the system time of filling the page cache with it."""
        self.root = Path(root)
        self.direct_from = direct_from
        self.objects = self.root / "objects"
        self._objects = os.fspath(self.objects)
        self._folders: set[str] = set()  # fan-out folders this process made or saw: not checked again
        self.temp_dir = self.root / "tmp"
        self.description = f"folder {self.root}"

    def _path(self, sha256: str) -> Path:
        first, second, name = object_parts(sha256)
        return self.objects / first / second / name

    def _names(self, sha256: str) -> tuple[str, str]:
        """(folder, object) as plain strings, for the per-file hot paths (pathlib costs more there
        than the system calls)."""
        first, second, name = object_parts(sha256)
        folder = f"{self._objects}{os.sep}{first}{os.sep}{second}"
        return folder, f"{folder}{os.sep}{name}"

    # -- writing -------------------------------------------------------------------------------

    def put(self, source: BinaryIO, progress: ProgressCallback | None = None) -> StoredBlob:
        """Store what `source` yields under its SHA-256; `created` is False when it was there."""
        temp, sha256, size = self._write_temporary(source, progress, durable=True)
        try:
            created = self._publish(temp, sha256, durable=True)
        except BaseException:
            remove_quietly(temp)
            raise
        return StoredBlob(sha256=sha256, size=size, created=created)

    def stage(self, source: BinaryIO, progress: ProgressCallback | None = None) -> StagedBlob:
        """Hash and write `source` to a temporary file, not yet durable nor named (see publish)."""
        temp, sha256, size = self._write_temporary(source, progress, durable=False)
        folder, final = self._names(sha256)
        if os.path.exists(final):  # noqa: PTH110 - per file, on a string: see _names
            remove_quietly(temp)
            return StagedBlob(sha256, size, present=True, path=None)
        if folder not in self._folders:  # made here, on the caller's thread, not while publishing
            try:
                self._make_folders(Path(folder), durable=False)  # durable with the batch's sync
            except BaseException:
                remove_quietly(temp)
                raise
            self._folders.add(folder)
        return StagedBlob(sha256, size, present=False, path=temp)

    def _write_temporary(
        self, source: BinaryIO, progress: ProgressCallback | None, *, durable: bool
    ) -> tuple[Path, str, int]:
        """A read-only temporary file holding `source`, fsynced if `durable`; removed on failure."""
        temp, fd = open_temp(self.temp_dir)
        try:
            try:
                sha256, size = copy_hashing(source, fd, progress, direct_from=self.direct_from)
                if durable:
                    os.fsync(fd)
                else:  # durable with its batch's syncfs: start the write-out now
                    start_writeback(fd)
            finally:
                os.close(fd)
            temp.chmod(OBJECT_MODE)
        except BaseException:
            remove_quietly(temp)
            raise
        return temp, sha256, size

    def publish(self, staged: Sequence[StagedBlob]) -> list[StoredBlob]:
        """Sync the filesystem (every staged file's bytes become durable), link each under its
        real name, sync again (the names become durable). Two syncs per batch, not 3-4 fsyncs
        per object."""
        fresh = [s for s in staged if not s.present and s.path is not None]
        if fresh:
            sync_filesystem(self.temp_dir)
        stored: list[StoredBlob] = []
        try:
            for item in staged:
                created = False
                if not item.present and item.path is not None:
                    created = self._publish(item.path, item.sha256, durable=False, folders=self._folders)
                stored.append(StoredBlob(item.sha256, item.size, created=created))
        except BaseException:
            self.discard(staged)
            raise
        if any(blob.created for blob in stored):
            sync_filesystem(self.objects)
        return stored

    def discard(self, staged: Sequence[StagedBlob]) -> None:
        for item in staged:
            if item.path is not None:
                remove_quietly(item.path)

    def _publish(self, temp: Path, sha256: str, *, durable: bool, folders: set[str] | None = None) -> bool:
        """Give the finished temporary file its real name unless that name exists (write-once).

        A hard link fails atomically when the name is taken, so two writers racing with the same
        content both succeed and leave exactly one object. Where links are unsupported, an
        existence check then an atomic rename does the same: a rename that loses the race
        replaces the object with identical bytes. Names are plain strings: pathlib cost more
        than the link itself (0.4 s of the recording thread's GIL time for 1,155 files)."""
        folder, final = self._names(sha256)
        if folders is None or folder not in folders:
            self._make_folders(Path(folder), durable=durable)
            if folders is not None:
                folders.add(folder)
        try:
            created = _link(temp, final)
        except FileNotFoundError:  # a folder known to exist was removed meanwhile
            self._make_folders(Path(folder), durable=durable)
            created = _link(temp, final)
        remove_quietly(temp)
        if created and durable:
            _fsync_dir(Path(folder))
        return created

    def _make_folders(self, folder: Path, *, durable: bool) -> None:
        """Create the fan-out folders an object needs, fsyncing each parent that gained one
        (unless the caller syncs the whole filesystem afterwards)."""
        if folder.is_dir():
            return
        missing: list[Path] = []
        current = folder
        while not current.is_dir():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            with contextlib.suppress(FileExistsError):
                path.mkdir()
            if durable:
                _fsync_dir(path.parent)

    # -- reading -------------------------------------------------------------------------------

    def open(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        path = self._path(sha256)
        try:
            return builtins.open(path, "rb")
        except FileNotFoundError:
            raise IntegrityError(f"sha256:{sha256} is missing from the store ({self.description})") from None

    def size(self, sha256: str) -> int | None:
        try:
            return self._path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def iter_objects(self) -> Iterator[tuple[str, int]]:
        """Every stored (sha256, size), walking `objects/` only; anything that is not where the
        layout would put it (stray files, temporary files) is skipped. One scandir per folder
        and one stat per object: 100,000 objects list in about a second."""
        for first_name, first_path in _fanout(self.objects):
            for second_name, second_path in _fanout(first_path):
                prefix = first_name + second_name
                try:
                    entries = os.scandir(second_path)
                except FileNotFoundError:
                    continue
                with entries:
                    for entry in entries:
                        name = entry.name
                        if not (name.startswith(prefix) and is_digest(name)):
                            continue
                        try:
                            if entry.is_file(follow_symlinks=False):
                                yield name, entry.stat(follow_symlinks=False).st_size
                        except FileNotFoundError:  # removed while we looked
                            continue

    def local_path(self, sha256: str) -> Path | None:
        """Where the object's bytes live (whether or not it exists; `size` says that)."""
        return self._path(check_digest(sha256))

    def clean_temporary(self) -> int:
        """Remove `.part` files whose writing process is gone; a live writer's file is kept."""
        return clean_temp_folder(self.temp_dir)


def _link(temp: Path, final: str) -> bool:
    """Name `temp` `final` unless that name exists; whether this call created it."""
    try:
        os.link(temp, final)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        if Path(final).exists():
            return False
        temp.replace(final)
    return True


def _fanout(folder: Path | str) -> list[tuple[str, str]]:
    """(name, path) of the two-hex-digit fan-out folders directly inside `folder`, sorted."""
    try:
        with os.scandir(folder) as entries:
            found = [
                (entry.name, entry.path)
                for entry in entries
                if entry.name in FANOUT_NAMES and entry.is_dir(follow_symlinks=False)
            ]
    except FileNotFoundError:
        return []
    return sorted(found)
