"""Encryption at rest on an S3-compatible store (moto's standalone server, tests/s3_server.py):
every object in the bucket is HJCRYPT1 ciphertext (grep of every object's bytes), verify decrypts
as it hashes, the keyless quick check reads only headers, rekey/shred work, `hujjat encrypt`
converts a plaintext S3 archive and survives an interruption, and a large object goes up as a
multipart upload in bounded memory and reads back with seeks."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig

from hujjat.adapters.blobs.encrypted import EncryptedStore, S3Backend
from hujjat.adapters.blobs.s3 import S3Store
from hujjat.adapters.crypto.key_table import KeyTable
from hujjat.adapters.crypto.keyring import Secret, create_keyring
from hujjat.adapters.crypto.stream import MAGIC
from tests.integration.protection_support import key_file, run
from tests.s3_server import S3Server

__all__ = ["key_file"]  # a fixture, used by name

MiB = 1 << 20
MARKER = b"WITNESS-Nigora-Rashidova-5520"
NOTE = "s3-note-safehouse-Khujand-9031"


def bucket_objects(server: S3Server, bucket: str) -> dict[str, bytes]:
    client = server.client()
    found: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            found[entry["Key"]] = client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
    return found


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "statement.txt").write_bytes(b"statement by " + MARKER + b"\n" * 20)
    (folder / "big.bin").write_bytes(os.urandom(2 * MiB + 7) + MARKER + os.urandom(100))
    (folder / "empty.dat").write_bytes(b"")
    return folder


def test_encrypted_s3_archive_holds_only_ciphertext(
    tmp_path: Path, key_file: Path, evidence: Path, s3_server: S3Server, s3_bucket: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "arch"
    code, _, err = run(capsys, "init", str(root), "--encrypt", "--store", f"s3://{s3_bucket}/org-a",
                       "--s3-endpoint", s3_server.endpoint_url)
    assert code == 0, err
    code, out, err = run(capsys, "add", str(evidence), "--note", NOTE, "--json", "--archive", str(root))
    assert code == 0, err
    items = {o["sha256"]: o["item_id"] for o in json.loads(out)["outcomes"]}
    assert len(items) == 3
    stored = bucket_objects(s3_server, s3_bucket)
    assert len(stored) == 3
    for key, data in stored.items():
        assert data.startswith(MAGIC), key
        assert MARKER not in data and b"statement by" not in data, key
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    assert json.loads(out)["ok"]
    big = next(sha for sha in items if sha == hashlib.sha256((evidence / "big.bin").read_bytes()).hexdigest())
    copy = tmp_path / "copy.bin"
    code, _, err = run(capsys, "export-file", items[big], str(copy), "--archive", str(root))
    assert code == 0, err
    assert copy.read_bytes() == (evidence / "big.bin").read_bytes()

    # Key rotation re-wraps the keys (kept in the archive folder); the objects are not rewritten.
    etags = {e["Key"]: e["ETag"] for e in s3_server.client().list_objects_v2(Bucket=s3_bucket)["Contents"]}
    code, out, err = run(capsys, "rekey", "--json", "--archive", str(root))
    assert code == 0, err
    assert json.loads(out)["keys_rewrapped"] == 3
    assert {e["Key"]: e["ETag"] for e in s3_server.client().list_objects_v2(Bucket=s3_bucket)["Contents"]} == etags

    # Keyless quick check reads headers over S3 and needs no secret.
    monkeypatch.delenv("HUJJAT_KEY_FILE")
    code, out, err = run(capsys, "verify", "--quick", "--json", "--archive", str(root))
    assert code == 0, out + err
    assert json.loads(out)["keyless"] is True and json.loads(out)["objects"] == 3

    # Shredding: verify reports it as shredded, reading it fails.
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key_file))
    code, _, err = run(capsys, "shred", items[big], "--reason", "consent withdrawn", "--archive", str(root))
    assert code == 0, err
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    assert json.loads(out)["shredded"] == [items[big]]
    code, _, err = run(capsys, "export-file", items[big], str(tmp_path / "gone.bin"), "--archive", str(root))
    assert code == 1 and "shredded" in err

    # Tampering with an object in the bucket: a changed byte fails authentication, a cut is seen
    # without the key.
    statement = next(k for k, v in stored.items() if len(v) < 1000 and len(v) > 100)
    changed = bytearray(stored[statement])
    changed[40] ^= 0x01
    s3_server.client().put_object(Bucket=s3_bucket, Key=statement, Body=bytes(changed))
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 1 and any("authentication" in p for p in json.loads(out)["problems"]), out
    s3_server.client().put_object(Bucket=s3_bucket, Key=statement, Body=bytes(changed[:-5]))
    monkeypatch.delenv("HUJJAT_KEY_FILE")
    code, out, err = run(capsys, "verify", "--quick", "--json", "--archive", str(root))
    assert code == 1 and "truncated" in out
    for path in root.rglob("*"):
        if path.is_file():
            assert MARKER not in path.read_bytes(), path


def test_encrypt_converts_an_s3_archive_and_resumes(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HUJJAT_KEY_FILE", raising=False)
    monkeypatch.delenv("HUJJAT_PASSPHRASE", raising=False)
    root = tmp_path / "arch"
    code, _, err = run(capsys, "init", str(root), "--store", f"s3://{s3_bucket}/plain",
                       "--s3-endpoint", s3_server.endpoint_url)
    assert code == 0, err
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        (folder / f"f{i}.txt").write_bytes(MARKER + f" statement {i} ".encode() * 40)
    assert run(capsys, "add", str(folder), "--archive", str(root))[0] == 0
    assert all(MARKER in data for data in bucket_objects(s3_server, s3_bucket).values())
    key = tmp_path / "k"
    key.write_bytes(os.urandom(32))
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key))

    # Interrupted after the third object's key was committed, before its ciphertext went up.
    real = S3Backend.place
    calls = {"n": 0}

    def flaky(self: S3Backend, temp: Path, sha256: str) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(104, "Connection reset by peer")
        real(self, temp, sha256)

    monkeypatch.setattr(S3Backend, "place", flaky)
    code, _, err = run(capsys, "encrypt", "--archive", str(root))
    assert code == 1 and "Connection reset" in err
    half = bucket_objects(s3_server, s3_bucket)
    assert sum(data.startswith(MAGIC) for data in half.values()) == 2
    # Half converted (one object has a key row but is still plaintext): readable and verifiable.
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    monkeypatch.setattr(S3Backend, "place", real)
    code, out, err = run(capsys, "encrypt", "--json", "--archive", str(root))
    assert code == 0, err
    assert json.loads(out)["objects_converted"] == 3
    code, out, err = run(capsys, "encrypt", "--archive", str(root))
    assert code == 2 and "already encrypted" in err
    for name, data in bucket_objects(s3_server, s3_bucket).items():
        assert data.startswith(MAGIC) and MARKER not in data, name
    code, out, err = run(capsys, "verify", "--json", "--archive", str(root))
    assert code == 0, out + err
    assert json.loads(out)["items"] == 5


def test_large_object_multipart_bounded_memory_and_seeks(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str
) -> None:
    transfer = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    inner = S3Store(s3_bucket, "big", endpoint_url=s3_server.endpoint_url, region=s3_server.region,
                    spool_dir=tmp_path / "spool", transfer=transfer)
    ring = create_keyring(tmp_path / "keys", Secret(key_file=os.urandom(32)))
    store = EncryptedStore(inner, KeyTable(tmp_path / "keys"), ring)
    size = 40 * MiB + 123
    block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB

    class Source(io.RawIOBase):
        def __init__(self) -> None:
            self.left = size
            self.digest = hashlib.sha256()

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            n = min(len(buffer), self.left, len(block))
            buffer[:n] = block[:n]
            self.digest.update(block[:n])
            self.left -= n
            return n

    source = Source()
    tracemalloc.start()
    try:
        blob = store.put(io.BufferedReader(source, MiB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert blob.sha256 == source.digest.hexdigest() and blob.size == size
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"
    head = s3_server.client().head_object(Bucket=s3_bucket, Key=inner._key(blob.sha256))
    assert head["ETag"].strip('"').endswith("-9")  # 9 parts of 5 MiB: a multipart upload
    assert store.size(blob.sha256) == size
    assert list(store.iter_objects()) == [(blob.sha256, size)]
    tracemalloc.start()
    try:
        digest = hashlib.sha256()
        with store.open(blob.sha256) as handle:
            while chunk := handle.read(MiB):
                digest.update(chunk)
            handle.seek(17 * MiB + 5)
            piece = handle.read(10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == blob.sha256
    offset = (17 * MiB + 5) % len(block)
    assert piece == (block + block)[offset : offset + 10]
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert store.check_structure(blob.sha256) is None
    assert os.listdir(tmp_path / "spool") == []
