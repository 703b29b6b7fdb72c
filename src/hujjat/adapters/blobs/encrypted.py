"""The encrypting blob store: HJCRYPT1 ciphertext (adapters/crypto/stream.py) in a local folder
store, under the SHA-256 of the ORIGINAL bytes, with one random data key per object.

`put` hashes the plaintext while it encrypts, in one pass and constant memory; the object's data
key is wrapped by the archive's master key and kept in keys/blob-keys.db (crypto/key_table.py). The key row is inserted, the
ciphertext is renamed into place, and only then is the transaction committed: a crash leaves at
worst an object with no committed key, which the next `put` of the same bytes (or `hujjat
encrypt`) replaces. Shredding destroys the wrapped key; the ciphertext stays, provably unreadable.
Objects are never given a local path (the file holds ciphertext); readers go through `open`.
"""

from __future__ import annotations

import builtins
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from hujjat.adapters.blobs.common import _pool, _write_all, open_temp, remove_quietly
from hujjat.adapters.blobs.local import OBJECT_MODE, LocalFolderStore, _fsync_dir
from hujjat.adapters.crypto.key_table import KeyTable
from hujjat.adapters.crypto.keyring import Keyring, unwrap_data_key, wrap_data_key
from hujjat.adapters.crypto.stream import (
    DEFAULT_CHUNK,
    HEADER_SIZE,
    SIZE_OFFSET,
    ChunkEncryptor,
    open_plaintext,
    parse_header,
    plaintext_size,
    size_field,
)
from hujjat.domain.errors import ArchiveError, IntegrityError
from hujjat.domain.evidence import StoredBlob
from hujjat.ports import ProgressCallback


def _filler(source: BinaryIO) -> Callable[[bytearray], memoryview | bytes]:
    """A function filling a whole chunk buffer from `source` (short only at the end) and returning
    a view of what was read; sources without readinto() are read and copied."""
    readinto = getattr(source, "readinto", None)
    if readinto is None:
        return lambda buffer: _read_full(source, len(buffer))

    def fill(buffer: bytearray) -> memoryview:
        view = memoryview(buffer)
        done = 0
        while done < len(view):
            count = readinto(view[done:])
            if not count:
                break
            done += count
        return view[:done]

    return fill


def _read_full(source: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes, short only at the end of the stream (sources may return less)."""
    data = source.read(size)
    if not data or len(data) == size:
        return data
    parts = [data]
    total = len(data)
    while total < size and (more := source.read(size - total)):
        parts.append(more)
        total += len(more)
    return b"".join(parts)


class ShreddedError(IntegrityError):
    """The object's data key was destroyed on purpose (`hujjat shred`)."""


class EncryptedFolderStore:
    """A `BlobStore` (and `EncryptingStore`) keeping ciphertext in a LocalFolderStore's layout."""

    def __init__(
        self, inner: LocalFolderStore, keys: KeyTable, keyring: Keyring, converting: bool = False
    ) -> None:
        self.inner = inner
        self.keys = keys
        self.keyring = keyring
        self.converting = converting
        self.description = f"encrypted {inner.description}"

    # -- writing -------------------------------------------------------------------------------

    def put(self, source: BinaryIO, progress: ProgressCallback | None = None) -> StoredBlob:
        data_key = os.urandom(32)
        temp, sha256, size = self._encrypt_to_temp(source, data_key, progress)
        try:
            created = self._publish(temp, sha256, data_key, replace_unkeyed=True)
        finally:
            remove_quietly(temp)
        return StoredBlob(sha256=sha256, size=size, created=created)

    def _encrypt_to_temp(
        self, source: BinaryIO, data_key: bytes, progress: ProgressCallback | None
    ) -> tuple[Path, str, int]:
        """Encrypt `source` into a fresh temporary file; return (path, plaintext sha256, size).
        Each plaintext chunk is hashed on a worker thread while it is encrypted and written."""
        temp, fd = open_temp(self.inner.temp_dir)
        try:
            try:
                encryptor = ChunkEncryptor(data_key, DEFAULT_CHUNK)
                _write_all(fd, encryptor.header)
                digest = hashlib.sha256()
                size = 0
                # One chunk of look-ahead tells which chunk is the last; hashing the chunk runs on a
                # worker thread (hashlib releases the GIL) while it is encrypted and written. Two
                # reused buffers: no allocation or page faults per chunk.
                fill = _filler(source)
                buffers = (bytearray(DEFAULT_CHUNK), bytearray(DEFAULT_CHUNK))
                turn = 0
                current = fill(buffers[turn])
                while True:
                    hashing = _pool().submit(digest.update, current)
                    following = fill(buffers[turn ^ 1])
                    try:
                        _write_all(fd, encryptor.seal(current, last=not len(following)))
                    finally:
                        hashing.result()
                    size += len(current)
                    if progress is not None and len(current):
                        progress(len(current))
                    if not len(following):
                        break
                    current, turn = following, turn ^ 1
                os.pwrite(fd, size_field(size), SIZE_OFFSET)
                os.fsync(fd)
            finally:
                os.close(fd)
            temp.chmod(OBJECT_MODE)
        except BaseException:
            remove_quietly(temp)
            raise
        return temp, digest.hexdigest(), size

    def _publish(self, temp: Path, sha256: str, data_key: bytes, replace_unkeyed: bool) -> bool:
        """Record the wrapped key and move the ciphertext into place in one transaction."""
        final = self.inner._path(sha256)
        with self.keys.transaction() as keys:
            existing = keys.get(sha256)
            if existing is not None:
                if existing.shredded:
                    raise ArchiveError(
                        f"sha256:{sha256} was shredded; the same content cannot be stored again"
                    )
                if final.exists():
                    return False
            keys.put(sha256, self.keyring.master_id, wrap_data_key(self.keyring.master_key, data_key, sha256))
            if final.exists() and not replace_unkeyed:
                return False
            self.inner._make_folders(final.parent)
            temp.replace(final)
            _fsync_dir(final.parent)
        return True

    def convert(self, sha256: str) -> bool:
        """Encrypt one plaintext object in place (`hujjat encrypt`); False when already done.
        The plaintext is re-hashed on the way and must match its name."""
        if self.keys.get(sha256) is not None:
            return False
        data_key = os.urandom(32)
        with self.inner.open(sha256) as handle:
            temp, actual, _size = self._encrypt_to_temp(handle, data_key, None)
        try:
            if actual != sha256:
                raise IntegrityError(f"sha256:{sha256} no longer hashes to its name; not encrypting it")
            self._publish(temp, sha256, data_key, replace_unkeyed=True)
        finally:
            remove_quietly(temp)
        return True

    # -- reading -------------------------------------------------------------------------------

    def data_key(self, sha256: str) -> bytes | None:
        """The object's data key; None when it has none (a plaintext object mid-conversion)."""
        key = self.keys.get(sha256)
        if key is None:
            if self.converting:
                return None
            raise IntegrityError(f"sha256:{sha256} has no data key (stored outside Hujjat, or a crashed write)")
        if key.shredded or key.wrapped is None or key.master_id is None:
            raise ShreddedError(f"sha256:{sha256} was shredded: its data key is destroyed")
        master = self.keyring.master_keys().get(key.master_id)
        if master is None:
            raise ArchiveError(f"sha256:{sha256} is wrapped by master key {key.master_id}, which the keyring lacks")
        return unwrap_data_key(master, key.wrapped, sha256)

    def open(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        data_key = self.data_key(sha256)
        if data_key is None:
            return self.inner.open(sha256)
        try:
            raw = builtins.open(self.inner._path(sha256), "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError:
            raise IntegrityError(f"sha256:{sha256} is missing from the store ({self.description})") from None
        return open_plaintext(raw, data_key, os.fstat(raw.fileno()).st_size, f"sha256:{sha256}")

    def size(self, sha256: str) -> int | None:
        stored = self.inner.size(sha256)
        if stored is None:
            return None
        if self.converting and self.keys.get(sha256) is None:
            return stored  # not converted yet: plaintext
        plain = plaintext_size(stored)
        return -1 if plain is None else plain

    def iter_objects(self) -> Iterator[tuple[str, int]]:
        keyed = self.keys.keyed() if self.converting else None
        for sha256, stored in self.inner.iter_objects():
            if keyed is not None and sha256 not in keyed:
                yield sha256, stored  # not converted yet: plaintext
                continue
            plain = plaintext_size(stored)
            yield sha256, -1 if plain is None else plain

    def local_path(self, sha256: str) -> Path | None:
        return None

    def clean_temporary(self) -> int:
        return self.inner.clean_temporary()

    # -- EncryptingStore -----------------------------------------------------------------------

    def shredded(self) -> set[str]:
        return self.keys.shredded()

    def shred(self, sha256: str) -> bool:
        return self.keys.shred(sha256)

    def check_structure(self, sha256: str) -> str | None:
        if self.converting and self.keys.get(sha256) is None:
            return None  # not converted yet: plaintext
        try:
            with self.inner.open(sha256) as raw:
                header = raw.read(HEADER_SIZE)
                stored = os.fstat(raw.fileno()).st_size
        except (OSError, IntegrityError) as exc:
            return f"blob {sha256} is unreadable ({exc})"
        try:
            chunk_size, declared, _prefix = parse_header(header)
        except IntegrityError as exc:
            return f"blob {sha256}: {exc}"
        if plaintext_size(stored, chunk_size) != declared:
            return f"blob {sha256}: ciphertext of {stored} bytes cannot be whole (truncated or padded)"
        return None
