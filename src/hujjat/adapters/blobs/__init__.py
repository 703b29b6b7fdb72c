"""Blob store backends and the one function that picks one from the archive's `store` setting.

`store = "objects"` (or any folder path, relative to the archive folder) gives the local folder
store; `store = "s3://bucket/prefix"` gives the S3-compatible store. boto3 is imported only when an
S3 store is asked for, so local archives start fast.
"""

from __future__ import annotations

from pathlib import Path

from hujjat.adapters.blobs.local import LocalFolderStore
from hujjat.domain.errors import ArchiveError
from hujjat.ports import BlobStore

__all__ = ["LocalFolderStore", "open_store"]


def open_store(
    spec: str,
    base_dir: Path,
    endpoint_url: str | None = None,
    region: str | None = None,
) -> BlobStore:
    """The store `spec` names: a folder path (relative to `base_dir`) or `s3://bucket[/prefix]`.

    `endpoint_url` and `region` apply to S3 only (e.g. a MinIO server's URL)."""
    spec = spec.strip()
    if not spec:
        raise ArchiveError("the blob store setting is empty: give a folder or s3://bucket/prefix")
    if "://" in spec:
        scheme, _, rest = spec.partition("://")
        if scheme.lower() != "s3":
            raise ArchiveError(f"unsupported blob store {spec!r}: use a folder path or s3://bucket/prefix")
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise ArchiveError(f"no bucket in the blob store setting {spec!r}: use s3://bucket/prefix")
        from hujjat.adapters.blobs.s3 import S3Store

        return S3Store(bucket, prefix, endpoint_url=endpoint_url, region=region)
    return LocalFolderStore((Path(base_dir) / Path(spec).expanduser()).absolute())
