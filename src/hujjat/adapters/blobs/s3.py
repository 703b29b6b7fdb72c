"""The S3-compatible blob store: the same content-addressed, write-once objects in a bucket.

Keys are `<prefix>/objects/ab/cd/<64 hex sha256>`, the local folder layout. `put` first spools the
stream to a local temporary file while hashing it (constant memory, one pass), so the key is known
before anything is sent; it then uploads only when the key is absent. S3 makes an object visible
only once its PUT (or the completion of its multipart upload) succeeds, so a crash never leaves a
partial object under a real key; the SHA-256 travels as object metadata and, where the server
supports it, as an S3 SHA256 checksum the server verifies on arrival. Leftovers of a crash are
local spool files and unfinished multipart uploads, which `clean_temporary` removes.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
import botocore.exceptions as bex
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from hujjat.adapters.blobs.common import (
    CHUNK_SIZE,
    check_digest,
    clean_temp_folder,
    copy_hashing,
    is_object_name,
    object_parts,
    open_temp,
    remove_quietly,
)
from hujjat.domain.errors import ArchiveError, IntegrityError
from hujjat.domain.evidence import StoredBlob
from hujjat.ports import ProgressCallback

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_BAD_CREDENTIALS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
_NO_CHECKSUM = {"InvalidRequest", "InvalidArgument", "NotImplemented"}
_MISSING = {"404", "NoSuchKey", "NotFound"}
_TRANSFER = TransferConfig(multipart_threshold=64 << 20, multipart_chunksize=64 << 20, max_concurrency=4)


def _error_code(error: bex.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class _BodyReader(io.RawIOBase):
    """A get_object body as a raw binary stream, so it can be buffered and read like a file.
    A connection that breaks mid-object becomes one clear ArchiveError."""

    def __init__(self, body: Any, where: str) -> None:
        self._body = body
        self._where = where

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._body.read(len(buffer))
        except bex.BotoCoreError as error:
            raise ArchiveError(f"reading {self._where} failed: {error}") from None
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class _RangeReader(io.RawIOBase):
    """A seekable raw stream over one object: reads continue the current GET response, a seek
    elsewhere drops it and the next read opens a ranged GET at the new position."""

    def __init__(self, store: S3Store, key: str, size: int, where: str) -> None:
        self._store = store
        self._key = key
        self._size = size
        self._where = where
        self._pos = 0
        self._body: Any = None
        self._body_pos = -1

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size:
            return 0
        if self._body is None or self._body_pos != self._pos:
            self._drop()
            self._body = self._store._get_from(self._key, self._pos)
            self._body_pos = self._pos
        try:
            data = self._body.read(len(buffer))
        except bex.BotoCoreError as error:
            raise ArchiveError(f"reading {self._where} failed: {error}") from None
        memoryview(buffer).cast("B")[: len(data)] = data
        self._pos += len(data)
        self._body_pos += len(data)
        return len(data)

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        if not self.closed:
            self._drop()
        super().close()


class S3Store:
    """A `BlobStore` in a bucket of Amazon S3 or any S3-compatible server (MinIO, Ceph, ...).

    Credentials come from boto3's usual chain (environment, ~/.aws, instance roles)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: S3Client | None = None,
        spool_dir: Path | None = None,
        stale_after: timedelta = timedelta(hours=24),
        transfer: TransferConfig | None = None,
    ) -> None:
        if not bucket:
            raise ArchiveError("an S3 store needs a bucket name (s3://bucket/prefix)")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.description = f"s3://{bucket}/{self.prefix}" + (f" at {endpoint_url}" if endpoint_url else "")
        self.temp_dir = spool_dir or Path(tempfile.gettempdir()) / "hujjat-spool"
        self.stale_after = stale_after
        self.transfer = transfer or _TRANSFER
        self._base = f"{self.prefix}/objects/" if self.prefix else "objects/"
        self._use_checksum = True
        self._checked = False
        if client is None:
            config = Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=120,
                s3={"addressing_style": "path"} if endpoint_url else None,
            )
            try:
                client = boto3.session.Session().client(
                    "s3", endpoint_url=endpoint_url, region_name=region, config=config
                )
            except (ValueError, bex.BotoCoreError) as error:
                raise ArchiveError(f"cannot set up the S3 client for {self.description}: {error}") from None
        self._client: S3Client = client

    def _key(self, sha256: str) -> str:
        return self._base + "/".join(object_parts(sha256))

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn boto3's failures into one line a user can act on."""
        try:
            yield
        except S3UploadFailedError as error:
            cause = error.__context__
            if isinstance(cause, bex.ClientError):
                raise self._client_error(cause, action) from None
            raise ArchiveError(f"S3 upload to {self.description} failed: {error}") from None
        except bex.ClientError as error:
            raise self._client_error(error, action) from None
        except (bex.NoCredentialsError, bex.PartialCredentialsError):
            raise ArchiveError(
                f"no usable AWS credentials for {self.description}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            ) from None
        except (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ConnectionClosedError) as error:
            raise ArchiveError(f"cannot reach the S3 endpoint for {self.description}: {error}") from None
        except (bex.ReadTimeoutError, bex.ParamValidationError, bex.BotoCoreError) as error:
            raise ArchiveError(f"S3 {action} on {self.description} failed: {error}") from None

    def _client_error(self, error: bex.ClientError, action: str) -> ArchiveError:
        code = _error_code(error)
        if code == "NoSuchBucket":
            return ArchiveError(f"the S3 bucket {self.bucket!r} does not exist ({self.description})")
        if code in _BAD_CREDENTIALS:
            return ArchiveError(f"S3 rejected the credentials for {self.description} ({code})")
        if code in {"AccessDenied", "403", "Forbidden"}:
            return ArchiveError(f"access denied to {self.description}: check the credentials and policy")
        message = error.response.get("Error", {}).get("Message", "") or str(error)
        return ArchiveError(f"S3 {action} on {self.description} failed: {code} {message}".strip())

    def _ready(self) -> None:
        """Check once that the bucket answers, so a missing bucket or bad credentials give a clear
        message rather than looking like missing objects (HEAD requests carry no error code)."""
        if self._checked:
            return
        with self._errors("bucket check"):
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except bex.ClientError as error:
                if _error_code(error) in {"404", "NoSuchBucket", "NotFound"}:
                    raise ArchiveError(
                        f"the S3 bucket {self.bucket!r} does not exist ({self.description})"
                    ) from None
                raise
        self._checked = True

    # -- writing -------------------------------------------------------------------------------

    def put(self, source: BinaryIO, progress: ProgressCallback | None = None) -> StoredBlob:
        """Spool and hash `source`, then upload it unless that content is already stored.

        `progress` is told of each chunk as it is spooled and hashed."""
        self._ready()
        temp, fd = open_temp(self.temp_dir)
        try:
            try:
                sha256, size = copy_hashing(source, fd, progress)
            finally:
                os.close(fd)
            key = self._key(sha256)
            created = self._head(key) is None
            if created:
                self._upload(temp, key, sha256)
        finally:
            remove_quietly(temp)
        return StoredBlob(sha256=sha256, size=size, created=created)

    def _upload(self, path: Path, key: str, sha256: str) -> None:
        extra: dict[str, Any] = {"Metadata": {"sha256": sha256}}
        with self._errors("upload"):
            if self._use_checksum:
                try:
                    self._client.upload_file(
                        str(path),
                        self.bucket,
                        key,
                        ExtraArgs={**extra, "ChecksumAlgorithm": "SHA256"},
                        Config=self.transfer,
                    )
                    return
                except (S3UploadFailedError, bex.ClientError) as error:
                    cause = error.__context__ if isinstance(error, S3UploadFailedError) else error
                    if not (isinstance(cause, bex.ClientError) and _error_code(cause) in _NO_CHECKSUM):
                        raise
                    self._use_checksum = False  # an S3-compatible server without SHA256 checksums
            self._client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Config=self.transfer)

    def _head(self, key: str) -> int | None:
        with self._errors("lookup"):
            try:
                return self._client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
            except bex.ClientError as error:
                if _error_code(error) in _MISSING:
                    return None
                raise

    # -- reading -------------------------------------------------------------------------------

    def open(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        key = self._key(sha256)
        self._ready()
        with self._errors("download"):
            try:
                body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
            except bex.ClientError as error:
                if _error_code(error) in _MISSING:
                    raise IntegrityError(
                        f"sha256:{sha256} is missing from the store ({self.description})"
                    ) from None
                raise
        return io.BufferedReader(_BodyReader(body, f"sha256:{sha256} from {self.description}"), CHUNK_SIZE)

    def open_seekable(self, sha256: str) -> tuple[BinaryIO, int]:
        """A seekable reader of the stored bytes and their size. Each seek away from where the
        open response stands starts a ranged GET there, so reading chunk by chunk (the encrypted
        store's DecryptingReader) streams in constant memory and random access costs one request."""
        key = self._key(sha256)
        self._ready()
        size = self._head(key)
        if size is None:
            raise IntegrityError(f"sha256:{sha256} is missing from the store ({self.description})")
        raw = _RangeReader(self, key, size, f"sha256:{sha256} from {self.description}")
        return io.BufferedReader(raw, CHUNK_SIZE), size

    def read_range(self, sha256: str, start: int, length: int) -> bytes:
        """Up to `length` bytes from `start` (one ranged GET; the encrypted store's headers)."""
        key = self._key(sha256)
        self._ready()
        with self._errors("download"):
            try:
                body = self._client.get_object(
                    Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
                )["Body"]
            except bex.ClientError as error:
                if _error_code(error) in _MISSING:
                    raise IntegrityError(
                        f"sha256:{sha256} is missing from the store ({self.description})"
                    ) from None
                if _error_code(error) == "InvalidRange":
                    return b""
                raise
            try:
                return bytes(body.read())
            finally:
                body.close()

    def upload_object(self, path: Path, sha256: str) -> None:
        """Upload a finished local file under `sha256`'s key, replacing what is there (the
        encrypted store's ciphertext, which it names by the plaintext's hash). Multipart above
        the transfer threshold, so a multi-GB file goes up in constant memory."""
        self._ready()
        self._upload(path, self._key(check_digest(sha256)), sha256)

    def _get_from(self, key: str, start: int) -> Any:
        with self._errors("download"):
            return self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-")["Body"]

    def size(self, sha256: str) -> int | None:
        key = self._key(sha256)
        self._ready()
        return self._head(key)

    def iter_objects(self) -> Iterator[tuple[str, int]]:
        """Every stored (sha256, size) under `<prefix>/objects/`; other keys are skipped."""
        self._ready()
        with self._errors("listing"):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._base
            )
            for page in pages:
                for entry in page.get("Contents", []):
                    parts = entry["Key"][len(self._base) :].split("/")
                    if len(parts) == 3 and is_object_name(*parts):
                        yield parts[2], entry["Size"]

    def local_path(self, sha256: str) -> Path | None:
        """Always None: the bytes are remote; read them through `open`."""
        check_digest(sha256)
        return None

    def clean_temporary(self) -> int:
        """Abort multipart uploads under the prefix started more than `stale_after` ago, and
        remove local spool files of processes that are gone; return how many of both."""
        removed = clean_temp_folder(self.temp_dir)
        self._ready()
        cutoff = datetime.now(UTC) - self.stale_after
        with self._errors("clean-up"):
            pages = self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self._base
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] <= cutoff:
                        self._client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        removed += 1
        return removed
