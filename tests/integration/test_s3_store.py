"""What only the S3 backend does: metadata and checksums, multipart uploads, stale upload clean-up
and one-line errors for a missing bucket, refused credentials and an unreachable endpoint."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig

from hujjat.adapters.blobs import open_store
from hujjat.adapters.blobs.s3 import S3Store
from hujjat.domain.errors import ArchiveError
from tests.s3_server import S3Server, free_port

MiB = 1 << 20


def make_store(server: S3Server, bucket: str, tmp_path: Path, **options: object) -> S3Store:
    return S3Store(
        bucket,
        "p/q",
        endpoint_url=server.endpoint_url,
        region=server.region,
        spool_dir=tmp_path / "spool",
        **options,  # type: ignore[arg-type]
    )


def test_open_store_gives_an_s3_store(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    store = open_store(f"s3://{s3_bucket}/archive/one/", tmp_path, s3_server.endpoint_url, s3_server.region)
    assert isinstance(store, S3Store) and store.prefix == "archive/one"
    blob = store.put(io.BytesIO(b"hello"))
    key = f"archive/one/objects/{blob.sha256[:2]}/{blob.sha256[2:4]}/{blob.sha256}"
    assert s3_server.client().get_object(Bucket=s3_bucket, Key=key)["Body"].read() == b"hello"


def test_sha256_travels_as_metadata_and_checksum(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    store = make_store(s3_server, s3_bucket, tmp_path)
    data = b"checked on arrival"
    blob = store.put(io.BytesIO(data))
    head = s3_server.client().head_object(
        Bucket=s3_bucket, Key=store._key(blob.sha256), ChecksumMode="ENABLED"
    )
    assert head["Metadata"]["sha256"] == blob.sha256
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_multipart_upload(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    transfer = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    store = make_store(s3_server, s3_bucket, tmp_path, transfer=transfer)
    data = bytes(range(256)) * (48 * 1024)  # 12 MiB: three parts
    blob = store.put(io.BytesIO(data))
    assert blob.created and store.size(blob.sha256) == len(data)
    with store.open(blob.sha256) as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == blob.sha256
    assert s3_server.client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_clean_temporary_aborts_stale_uploads_only(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    client = s3_server.client()
    # moto reports every upload as initiated in 2010, so "recent" here means younger than a century.
    store = make_store(s3_server, s3_bucket, tmp_path, stale_after=timedelta(days=36500))
    client.create_multipart_upload(Bucket=s3_bucket, Key=store._key("ab" * 32))
    client.create_multipart_upload(Bucket=s3_bucket, Key="elsewhere/objects/x")
    assert store.clean_temporary() == 0  # too recent: may belong to a running upload
    stale = make_store(s3_server, s3_bucket, tmp_path, stale_after=timedelta(0))
    assert stale.clean_temporary() == 1
    left = client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert [upload["Key"] for upload in left] == ["elsewhere/objects/x"]


def test_missing_bucket_is_one_clear_line(s3_server: S3Server, tmp_path: Path) -> None:
    store = make_store(s3_server, "no-such-bucket-here", tmp_path)
    with pytest.raises(ArchiveError, match="bucket 'no-such-bucket-here' does not exist"):
        store.put(io.BytesIO(b"x"))
    with pytest.raises(ArchiveError, match="does not exist"):
        list(store.iter_objects())


def test_unreachable_endpoint_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Credentials of its own: without any, the (earlier) credentials check answers instead.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    store = S3Store("bucket", "", endpoint_url=f"http://127.0.0.1:{free_port()}", spool_dir=tmp_path)
    with pytest.raises(ArchiveError, match="cannot reach the S3 endpoint"):
        store.size("0" * 64)


class _Refuse(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that rejects every request's credentials, as AWS does for a wrong key."""

    def _refuse(self) -> None:
        body = (
            b""
            if self.command == "HEAD"
            else (
                b"<?xml version='1.0'?><Error><Code>InvalidAccessKeyId</Code>"
                b"<Message>The AWS Access Key Id you provided does not exist.</Message></Error>"
            )
        )
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = do_POST = _refuse

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_refused_credentials_are_one_clear_line(refusing_endpoint: str, tmp_path: Path) -> None:
    store = S3Store("bucket", "p", endpoint_url=refusing_endpoint, spool_dir=tmp_path)
    with pytest.raises(ArchiveError, match="access denied to s3://bucket/p"):
        store.size("0" * 64)
    store._checked = True  # past the bucket check, a GET carries the error code in its body
    with pytest.raises(ArchiveError, match="rejected the credentials"):
        store.open("0" * 64)


def test_missing_credentials_are_one_clear_line(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    store = make_store(s3_server, "bucket", tmp_path)
    with pytest.raises(ArchiveError, match="no usable AWS credentials"):
        store.put(io.BytesIO(b"x"))


def test_bad_endpoint_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="cannot set up the S3 client"):
        S3Store("bucket", "p", endpoint_url="not a url", spool_dir=tmp_path)
