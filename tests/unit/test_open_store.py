"""open_store: which backend a `store` setting names, and refusals of settings that name none."""

from __future__ import annotations

from pathlib import Path

import pytest

from hujjat.adapters.blobs import LocalFolderStore, open_store
from hujjat.adapters.blobs.s3 import S3Store
from hujjat.domain.errors import ArchiveError


def test_relative_folder_is_inside_the_archive(tmp_path: Path) -> None:
    store = open_store("objects", tmp_path)
    assert isinstance(store, LocalFolderStore) and store.root == tmp_path / "objects"
    nested = open_store("data/blobs", tmp_path)
    assert isinstance(nested, LocalFolderStore) and nested.root == tmp_path / "data" / "blobs"


def test_absolute_folder_is_kept(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "elsewhere"), Path("/not/used"))
    assert isinstance(store, LocalFolderStore) and store.root == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("spec", "bucket", "prefix"),
    [("s3://bucket/a/b", "bucket", "a/b"), ("s3://bucket", "bucket", ""), ("S3://b/p/", "b", "p")],
)
def test_s3_url_gives_an_s3_store(spec: str, bucket: str, prefix: str, tmp_path: Path) -> None:
    store = open_store(spec, tmp_path, "http://127.0.0.1:9", "eu-west-1")
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix, store.endpoint_url) == (bucket, prefix, "http://127.0.0.1:9")
    assert store.local_path("a" * 64) is None


@pytest.mark.parametrize("spec", ["", "   ", "gs://bucket/x", "s3://", "s3:///prefix"])
def test_settings_that_name_no_store_are_refused(spec: str, tmp_path: Path) -> None:
    with pytest.raises(ArchiveError):
        open_store(spec, tmp_path)
