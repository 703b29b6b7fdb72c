"""The encrypting blob store: HJCRYPT1 ciphertext (adapters/crypto/stream.py) in any plain
BlobStore backend (a local folder or an S3 bucket), under the SHA-256 of the ORIGINAL bytes, with
one random data key per object.

`put` hashes the plaintext while it encrypts, in one pass and constant memory, into a temporary
file of ciphertext (the folder's `tmp/`, or the S3 store's local spool: plaintext is never
spooled); the object's data key is wrapped by the archive's master key and kept in
keys/blob-keys.db (crypto/key_table.py). The key row is inserted, the ciphertext is placed (a
rename, or an upload: multipart above the threshold, constant memory), and only then is the
transaction committed: a crash leaves at worst an object with no committed key, which the next
`put` of the same bytes replaces (the caller still has the plaintext). The key table's write lock
is held while placing, so two writers of the same content cannot leave one's ciphertext under the
other's key; on S3 this makes uploads of new objects one at a time (encryption runs in parallel).

`convert` (`hujjat encrypt`) is the other way round, because the stored plaintext is the only
copy: the key row commits first, then the ciphertext replaces the plaintext. A crash in between
leaves plaintext with a key row, which readers recognise by its missing HJCRYPT1 header while the
archive is converting, and which the next run encrypts under that key.

Shredding destroys the wrapped key; the ciphertext stays, provably unreadable. Objects are never
given a local path (the file holds ciphertext); readers go through `open`, which decrypts.
"""

from __future__ import annotations

import builtins
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from hujjat.adapters.blobs.common import _pool, _write_all, open_temp, remove_quietly
from hujjat.adapters.blobs.local import OBJECT_MODE, LocalFolderStore, _fsync_dir
from hujjat.adapters.crypto.key_table import KeyTable
from hujjat.adapters.crypto.keyring import Keyring, unwrap_data_key, wrap_data_key
from hujjat.adapters.crypto.stream import (
    DEFAULT_CHUNK,
    HEADER_SIZE,
    MAGIC,
    SIZE_OFFSET,
    ChunkEncryptor,
    open_plaintext,
    parse_header,
    plaintext_size,
    size_field,
)
from hujjat.domain.errors import ArchiveError, IntegrityError
from hujjat.domain.evidence import StoredBlob
from hujjat.ports import BlobStore, ProgressCallback

if TYPE_CHECKING:  # boto3 is imported only for S3 archives
    from hujjat.adapters.blobs.s3 import S3Store


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


class CiphertextBackend(Protocol):
    """What the encrypting store needs from the plain store that holds its ciphertext, beyond
    BlobStore: where to write temporary ciphertext, seekable and partial reads, and putting a
    finished file under a name (replacing whatever is there)."""

    temp_dir: Path

    def open_seekable(self, sha256: str) -> tuple[BinaryIO, int]: ...

    def read_range(self, sha256: str, start: int, length: int) -> bytes: ...

    def place(self, temp: Path, sha256: str) -> None: ...

    def exists(self, sha256: str) -> bool: ...


class FolderBackend:
    """CiphertextBackend over a LocalFolderStore: a rename into place, plain file reads."""

    def __init__(self, store: LocalFolderStore) -> None:
        self.store = store
        self.temp_dir = store.temp_dir

    def open_seekable(self, sha256: str) -> tuple[BinaryIO, int]:
        try:
            raw = builtins.open(self.store._path(sha256), "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError:
            raise IntegrityError(f"sha256:{sha256} is missing from the store ({self.store.description})") from None
        return raw, os.fstat(raw.fileno()).st_size

    def read_range(self, sha256: str, start: int, length: int) -> bytes:
        with self.store.open(sha256) as raw:
            raw.seek(start)
            return raw.read(length)

    def place(self, temp: Path, sha256: str) -> None:
        final = self.store._path(sha256)
        if not final.parent.is_dir():  # the two fan-out folders; their new entries made durable
            final.parent.mkdir(parents=True, exist_ok=True)
            _fsync_dir(final.parent.parent)
            _fsync_dir(final.parent.parent.parent)
        temp.replace(final)
        _fsync_dir(final.parent)

    def exists(self, sha256: str) -> bool:
        return self.store._path(sha256).exists()


class S3Backend:
    """CiphertextBackend over an S3Store: ranged GETs, an upload (multipart when large) to place."""

    def __init__(self, store: S3Store) -> None:
        self.store = store
        self.temp_dir = store.temp_dir

    def open_seekable(self, sha256: str) -> tuple[BinaryIO, int]:
        return self.store.open_seekable(sha256)

    def read_range(self, sha256: str, start: int, length: int) -> bytes:
        return self.store.read_range(sha256, start, length)

    def place(self, temp: Path, sha256: str) -> None:
        self.store.upload_object(temp, sha256)

    def exists(self, sha256: str) -> bool:
        return self.store.size(sha256) is not None


def backend_for(store: BlobStore) -> CiphertextBackend:
    """The ciphertext backend of a plain store; ArchiveError for a store we cannot encrypt in."""
    if isinstance(store, LocalFolderStore):
        return FolderBackend(store)
    from hujjat.adapters.blobs.s3 import S3Store

    if isinstance(store, S3Store):
        return S3Backend(store)
    raise ArchiveError(f"encryption at rest is not supported on {store.description}")


def read_head(store: BlobStore, sha256: str) -> bytes:
    """The first HEADER_SIZE bytes of a stored object (one ranged GET on S3)."""
    return backend_for(store).read_range(sha256, 0, HEADER_SIZE)


class ShreddedError(IntegrityError):
    """The object's data key was destroyed on purpose (`hujjat shred`)."""


class EncryptedStore:
    """A `BlobStore` (and `EncryptingStore`) keeping HJCRYPT1 ciphertext in a plain store `inner`
    (LocalFolderStore or S3Store), which still lists, sizes and cleans up the objects."""

    def __init__(self, inner: BlobStore, keys: KeyTable, keyring: Keyring, converting: bool = False) -> None:
        self.inner = inner
        self.backend = backend_for(inner)
        self.keys = keys
        self.keyring = keyring
        self.converting = converting
        self.description = f"encrypted {inner.description}"

    # -- writing -------------------------------------------------------------------------------

    def put(self, source: BinaryIO, progress: ProgressCallback | None = None) -> StoredBlob:
        data_key = os.urandom(32)
        temp, sha256, size = self._encrypt_to_temp(source, data_key, progress)
        try:
            created = self._publish(temp, sha256, data_key)
        finally:
            remove_quietly(temp)
        return StoredBlob(sha256=sha256, size=size, created=created)

    def _encrypt_to_temp(
        self, source: BinaryIO, data_key: bytes, progress: ProgressCallback | None
    ) -> tuple[Path, str, int]:
        """Encrypt `source` into a fresh temporary file; return (path, plaintext sha256, size).
        Each plaintext chunk is hashed on a worker thread while it is encrypted and written."""
        temp, fd = open_temp(self.backend.temp_dir)
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

    def _publish(self, temp: Path, sha256: str, data_key: bytes) -> bool:
        """Record the wrapped key and place the ciphertext in one key-table transaction (its
        write lock keeps racing writers of the same content apart)."""
        with self.keys.transaction() as keys:
            existing = keys.get(sha256)
            if existing is not None:
                if existing.shredded:
                    raise ArchiveError(
                        f"sha256:{sha256} was shredded; the same content cannot be stored again"
                    )
                if self.backend.exists(sha256):
                    return False
            keys.put(sha256, self.keyring.master_id, wrap_data_key(self.keyring.master_key, data_key, sha256))
            self.backend.place(temp, sha256)
        return True

    def convert(self, sha256: str) -> bool:
        """Encrypt one plaintext object in place (`hujjat encrypt`); False when already done.

        The key row commits BEFORE the ciphertext replaces the plaintext (the only copy), so no
        interruption can leave ciphertext whose key was never saved. An object that already
        decrypts under its key is done; anything else must hash to its name (it is plaintext)
        and is encrypted under the committed key. A plaintext object shredded before it was
        converted is encrypted under a throw-away key: its bytes become unrecoverable too."""
        key = self.keys.get(sha256)
        if key is not None and key.shredded:
            if self._sealed(sha256, None):
                return False
            data_key = os.urandom(32)  # never stored: the shred is completed on the bytes
        elif key is not None:
            data_key = self._unwrap(sha256, key.master_id, key.wrapped)
            if self._sealed(sha256, data_key):
                return False
        else:
            data_key = os.urandom(32)
            with self.keys.transaction() as keys:
                keys.put(sha256, self.keyring.master_id, wrap_data_key(self.keyring.master_key, data_key, sha256))
        with self.inner.open(sha256) as handle:
            temp, actual, _size = self._encrypt_to_temp(handle, data_key, None)
        try:
            if actual != sha256:
                raise IntegrityError(f"sha256:{sha256} no longer hashes to its name; not encrypting it")
            self.backend.place(temp, sha256)
        finally:
            remove_quietly(temp)
        return True

    def _sealed(self, sha256: str, data_key: bytes | None) -> bool:
        """Whether the stored object is HJCRYPT1 ciphertext: its framing is whole and (given a
        key) its first chunk authenticates under `data_key`."""
        if not self._has_header(sha256):
            return False
        if data_key is None:
            return self._framing_problem(sha256) is None
        try:
            raw, size = self.backend.open_seekable(sha256)
            with open_plaintext(raw, data_key, size, f"sha256:{sha256}") as reader:
                reader.read(1)
        except IntegrityError:
            return False
        return True

    def _has_header(self, sha256: str) -> bool:
        return self.backend.read_range(sha256, 0, len(MAGIC)) == MAGIC

    # -- reading -------------------------------------------------------------------------------

    def _unwrap(self, sha256: str, master_id: str | None, wrapped: bytes | None) -> bytes:
        if wrapped is None or master_id is None:
            raise ShreddedError(f"sha256:{sha256} was shredded: its data key is destroyed")
        master = self.keyring.master_keys().get(master_id)
        if master is None:
            raise ArchiveError(f"sha256:{sha256} is wrapped by master key {master_id}, which the keyring lacks")
        return unwrap_data_key(master, wrapped, sha256)

    def data_key(self, sha256: str) -> bytes | None:
        """The object's data key; None when it is still plaintext (mid-conversion)."""
        key = self.keys.get(sha256)
        if key is None:
            if self.converting:
                return None
            raise IntegrityError(f"sha256:{sha256} has no data key (stored outside Hujjat, or a crashed write)")
        if key.shredded:
            raise ShreddedError(f"sha256:{sha256} was shredded: its data key is destroyed")
        if self.converting and not self._has_header(sha256):
            return None  # key committed, ciphertext not placed yet: still plaintext
        return self._unwrap(sha256, key.master_id, key.wrapped)

    def open(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        data_key = self.data_key(sha256)
        if data_key is None:
            return self.inner.open(sha256)
        raw, size = self.backend.open_seekable(sha256)
        return open_plaintext(raw, data_key, size, f"sha256:{sha256}")

    def _plaintext_now(self, sha256: str, keyed: bool) -> bool:
        """While converting: whether this object is still stored as plaintext."""
        return self.converting and (not keyed or not self._has_header(sha256))

    def size(self, sha256: str) -> int | None:
        stored = self.inner.size(sha256)
        if stored is None:
            return None
        if self._plaintext_now(sha256, self.keys.get(sha256) is not None):
            return stored
        plain = plaintext_size(stored)
        return -1 if plain is None else plain

    def iter_objects(self) -> Iterator[tuple[str, int]]:
        keyed = self.keys.keyed() if self.converting else None
        for sha256, stored in self.inner.iter_objects():
            if keyed is not None and self._plaintext_now(sha256, sha256 in keyed):
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
        if self._plaintext_now(sha256, self.keys.get(sha256) is not None):
            return None  # not converted yet: plaintext
        return self._framing_problem(sha256)

    def _framing_problem(self, sha256: str) -> str | None:
        try:
            header = self.backend.read_range(sha256, 0, HEADER_SIZE)
            stored = self.inner.size(sha256)
        except (OSError, IntegrityError, ArchiveError) as exc:
            return f"blob {sha256} is unreadable ({exc})"
        return framing_problem(sha256, header, stored)


def framing_problem(sha256: str, header: bytes, stored: int | None) -> str | None:
    """What is wrong with an object's HJCRYPT1 framing, judged from its header and stored size
    alone (no key): a foreign or damaged header, or a size no whole chunk sequence has."""
    if stored is None:
        return f"blob {sha256} is missing from the store"
    try:
        chunk_size, declared, _prefix = parse_header(header)
    except IntegrityError as exc:
        return f"blob {sha256}: {exc}"
    if plaintext_size(stored, chunk_size) != declared:
        return f"blob {sha256}: ciphertext of {stored} bytes cannot be whole (truncated or padded)"
    return None
