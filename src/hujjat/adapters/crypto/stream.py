"""The encrypted object format (HJCRYPT1): AES-256-GCM over fixed-size chunks, streamed.

Layout (all integers big-endian), documented in docs/protection.md:

    header  = b"HJCRYPT1" | chunk_size (u32) | plaintext_size (u64)
              | nonce_prefix (7 random bytes) | 0x00                                   (28 bytes)
    chunk i = AES-256-GCM(data_key, nonce = nonce_prefix | i (u32) | last (1 byte: 1 on the final
              chunk, else 0), plaintext = bytes [i*chunk_size, (i+1)*chunk_size),
              aad = header without its plaintext_size field) -> ciphertext | 16-byte tag

The plaintext size is written into the header once the stream ends (it is not known before), so
it is not part of the AAD; with the key the chunk count and final flag authenticate the length,
and a reader refuses a header whose size disagrees. Without the key it lets `verify --quick`
spot a truncated or padded object.

Every chunk but the last holds exactly `chunk_size` plaintext bytes; an empty object is one empty
final chunk. Chunk numbers and the final flag in the nonce (the STREAM construction, as in Tink's
streaming AEAD and age) make reordering, dropping or truncating chunks fail authentication. The
ciphertext size is therefore a pure function of the plaintext size, which lets `verify --quick`
check sizes with no key. Readers decrypt one chunk at a time and can seek: memory stays constant.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hujjat.domain.errors import IntegrityError

MAGIC = b"HJCRYPT1"
HEADER_SIZE = 28
SIZE_OFFSET = 12
TAG_SIZE = 16
DEFAULT_CHUNK = 1 << 20
_MAX_CHUNK = 1 << 26


def make_header(chunk_size: int = DEFAULT_CHUNK, nonce_prefix: bytes | None = None, size: int = 0) -> bytes:
    prefix = os.urandom(7) if nonce_prefix is None else nonce_prefix
    return MAGIC + struct.pack(">IQ", chunk_size, size) + prefix + b"\x00"


def size_field(size: int) -> bytes:
    """The bytes to write at SIZE_OFFSET once the plaintext size is known."""
    return struct.pack(">Q", size)


def header_aad(header: bytes) -> bytes:
    return header[:SIZE_OFFSET] + header[SIZE_OFFSET + 8 :]


def parse_header(header: bytes) -> tuple[int, int, bytes]:
    """(chunk_size, plaintext size, nonce_prefix) of a header; IntegrityError if not one of ours."""
    if len(header) != HEADER_SIZE or header[:8] != MAGIC or header[27] != 0:
        raise IntegrityError("not an HJCRYPT1 encrypted object (bad header)")
    chunk_size, size = struct.unpack(">IQ", header[8:20])
    if not 0 < chunk_size <= _MAX_CHUNK:
        raise IntegrityError("not an HJCRYPT1 encrypted object (bad chunk size)")
    return chunk_size, size, header[20:27]


def chunk_count(plain_size: int, chunk_size: int) -> int:
    return max(1, -(-plain_size // chunk_size))


def ciphertext_size(plain_size: int, chunk_size: int = DEFAULT_CHUNK) -> int:
    return HEADER_SIZE + plain_size + TAG_SIZE * chunk_count(plain_size, chunk_size)


def plaintext_size(cipher_size: int, chunk_size: int = DEFAULT_CHUNK) -> int | None:
    """The plaintext size a ciphertext of `cipher_size` bytes must hold, or None if no plaintext
    size gives that ciphertext size (a truncated or padded object)."""
    body = cipher_size - HEADER_SIZE
    if body < TAG_SIZE:
        return None
    chunks = -(-body // (chunk_size + TAG_SIZE))
    plain = body - TAG_SIZE * chunks
    if plain < 0 or ciphertext_size(plain, chunk_size) != cipher_size:
        return None
    return plain


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


class ChunkEncryptor:
    """Encrypts a stream chunk by chunk; `feed` returns ciphertext for whole chunks, `finish` the
    final chunk. The caller writes `header` first."""

    def __init__(self, data_key: bytes, chunk_size: int = DEFAULT_CHUNK) -> None:
        self.aead = AESGCM(data_key)
        self.chunk_size = chunk_size
        self.header = make_header(chunk_size)
        self.aad = header_aad(self.header)
        self.prefix = self.header[20:27]
        self.index = 0
        self.size = 0
        self.pending = bytearray()

    def feed(self, data: bytes | memoryview, emit: Callable[[bytes], None]) -> None:
        self.pending += data
        self.size += len(data)
        # Keep at least one byte back: the final chunk must carry the `last` flag.
        while len(self.pending) > self.chunk_size:
            chunk = bytes(self.pending[: self.chunk_size])
            del self.pending[: self.chunk_size]
            emit(self._seal(chunk, last=False))

    def finish(self, emit: Callable[[bytes], None]) -> None:
        emit(self._seal(bytes(self.pending), last=True))
        self.pending.clear()

    def seal(self, chunk: bytes | memoryview, last: bool) -> bytes:
        """Encrypt the next whole chunk (exactly chunk_size bytes unless `last`)."""
        if not last and len(chunk) != self.chunk_size:
            raise ValueError("only the last chunk may be short")
        self.size += len(chunk)
        return self._seal(chunk, last)

    def _seal(self, chunk: bytes | memoryview, last: bool) -> bytes:
        if self.index >= 0xFFFFFFFF:
            raise IntegrityError("object too large for the HJCRYPT1 format")
        sealed = self.aead.encrypt(_nonce(self.prefix, self.index, last), chunk, self.aad)
        self.index += 1
        return sealed


class DecryptingReader(io.RawIOBase):
    """A seekable, read-only view of the plaintext of one encrypted object. Each chunk is
    authenticated before any of its bytes are returned; a failure raises IntegrityError."""

    def __init__(self, raw: BinaryIO, data_key: bytes, cipher_size: int, label: str) -> None:
        super().__init__()
        self.raw = raw
        self.label = label
        header = raw.read(HEADER_SIZE)
        self.aad = header_aad(header)
        self.chunk_size, declared, self.prefix = parse_header(header)
        plain = plaintext_size(cipher_size, self.chunk_size)
        if plain is None or plain != declared:
            raise IntegrityError(f"{label}: encrypted object has the wrong size (truncated or padded)")
        self.plain_size = plain
        self.chunks = chunk_count(plain, self.chunk_size)
        self.aead = AESGCM(data_key)
        self.pos = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.plain_size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self.pos = base + offset
        return self.pos

    def _chunk(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        self.raw.seek(HEADER_SIZE + index * (self.chunk_size + TAG_SIZE))
        sealed = self.raw.read(self.chunk_size + TAG_SIZE)
        try:
            plain = self.aead.decrypt(
                _nonce(self.prefix, index, index == self.chunks - 1), sealed, self.aad
            )
        except InvalidTag:
            raise IntegrityError(f"{self.label}: chunk {index} fails authentication (changed or wrong key)") from None
        self._cached = (index, plain)
        return plain

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self.pos < self.plain_size:
            index, offset = divmod(self.pos, self.chunk_size)
            chunk = self._chunk(index)
            piece = chunk[offset : offset + len(view) - done]
            view[done : done + len(piece)] = piece
            done += len(piece)
            self.pos += len(piece)
        return done

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            self._cached = None
            super().close()


def open_plaintext(raw: BinaryIO, data_key: bytes, cipher_size: int, label: str) -> BinaryIO:
    """A buffered, seekable plaintext reader over `raw` (which it closes)."""
    return io.BufferedReader(DecryptingReader(raw, data_key, cipher_size, label), buffer_size=1 << 16)
