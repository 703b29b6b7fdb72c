"""The BlobStore contract, run against both backends: the local folder and S3 over real HTTP.

The S3 runs talk to moto's standalone server (tests/s3_server.py) through boto3 exactly as they
would talk to AWS or MinIO; nothing in boto3 is patched.
"""

from __future__ import annotations

import hashlib
import io
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from hujjat.adapters.blobs import LocalFolderStore
from hujjat.adapters.blobs.s3 import S3Store
from hujjat.domain.errors import IntegrityError, UsageError
from hujjat.ports import BlobStore
from tests.s3_server import S3Server

MiB = 1 << 20


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalFolderStore(tmp_path / "store")
    server: S3Server = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    return S3Store(
        bucket,
        "archive/blobs",
        endpoint_url=server.endpoint_url,
        region=server.region,
        spool_dir=tmp_path / "spool",
    )


def temp_files(store: BlobStore) -> list[str]:
    folder: Path = store.temp_dir  # type: ignore[attr-defined]
    return sorted(os.listdir(folder)) if folder.exists() else []


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


class Generated(io.RawIOBase):
    """`size` pseudo-random bytes made on demand (never all in memory), hashed as they go."""

    def __init__(self, size: int, fail_after: int | None = None) -> None:
        self.left = size
        self.fail_after = fail_after
        self.given = 0
        self.digest = hashlib.sha256()
        self.block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.fail_after is not None and self.given >= self.fail_after:
            raise OSError("source vanished mid-read")
        n = min(len(buffer), self.left, len(self.block))
        data = bytes(b ^ (self.given >> 16 & 0xFF) for b in self.block[:16]) + self.block[16:n]
        data = data[:n]
        buffer[:n] = data
        self.digest.update(data)
        self.left -= n
        self.given += n
        return n


def test_round_trip(store: BlobStore) -> None:
    data = b"evidence \x00\xff" * 1000
    blob = store.put(io.BytesIO(data))
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert (blob.size, blob.created) == (len(data), True)
    with store.open(blob.sha256) as handle:
        assert handle.read() == data
    assert store.size(blob.sha256) == len(data)
    assert list(store.iter_objects()) == [(blob.sha256, len(data))]
    path = store.local_path(blob.sha256)
    if isinstance(store, LocalFolderStore):
        assert path is not None and path.read_bytes() == data
        assert path.relative_to(store.root).parts == (
            "objects",
            blob.sha256[:2],
            blob.sha256[2:4],
            blob.sha256,
        )
    else:
        assert path is None
    assert temp_files(store) == []


def test_empty_object_and_progress(store: BlobStore) -> None:
    seen: list[int] = []
    blob = store.put(io.BytesIO(b""), seen.append)
    assert blob.sha256 == hashlib.sha256(b"").hexdigest() and blob.size == 0
    with store.open(blob.sha256) as handle:
        assert handle.read() == b""
    big = store.put(io.BytesIO(b"x" * (3 * MiB + 5)), seen.append)
    assert sum(seen) == big.size and max(seen) <= MiB


def test_missing_object(store: BlobStore) -> None:
    sha = "0" * 64
    assert store.size(sha) is None
    with pytest.raises(IntegrityError, match="missing"):
        store.open(sha)


def test_identical_content_is_stored_once(store: BlobStore) -> None:
    first = store.put(io.BytesIO(b"same bytes"))
    second = store.put(io.BytesIO(b"same bytes"))
    other = store.put(io.BytesIO(b"other bytes"))
    assert first.created and not second.created and other.created
    assert first.sha256 == second.sha256
    assert sorted(store.iter_objects()) == sorted([(first.sha256, 10), (other.sha256, 11)])
    assert temp_files(store) == []


def test_objects_are_write_once(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "store")
    blob = store.put(io.BytesIO(b"original"))
    path = store.local_path(blob.sha256)
    assert path is not None
    assert path.stat().st_mode & 0o777 == 0o444
    before = path.stat()
    assert not store.put(io.BytesIO(b"original")).created
    after = path.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


BAD_DIGESTS = [
    "../../../../etc/passwd",
    "A" * 64,
    "g" * 64,
    "a" * 63,
    "a" * 65,
    "a" * 64 + "\n",
    "sha256:" + "a" * 64,
    "ab/cd/" + "a" * 58,
    "/" + "a" * 63,
    "",
]


@pytest.mark.parametrize("bad", BAD_DIGESTS)
def test_malformed_digests_are_refused(store: BlobStore, bad: str) -> None:
    with pytest.raises(UsageError, match="SHA-256"):
        store.open(bad)
    with pytest.raises(UsageError):
        store.size(bad)
    with pytest.raises(UsageError):
        store.local_path(bad)


def test_failing_source_leaves_nothing(store: BlobStore) -> None:
    with pytest.raises(OSError, match="vanished"):
        store.put(io.BufferedReader(Generated(10 * MiB, fail_after=3 * MiB)))
    assert temp_files(store) == []
    assert list(store.iter_objects()) == []


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
def test_full_disk_leaves_nothing(store: BlobStore) -> None:
    """A file size limit makes writes fail past 2 MiB, as a full disk would."""
    store.put(io.BytesIO(b"warm up the client"))
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 * MiB, old_limit[1]))
    try:
        with pytest.raises(OSError):
            store.put(io.BytesIO(b"z" * (5 * MiB)))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert temp_files(store) == []
    assert len(list(store.iter_objects())) == 1


def test_concurrent_puts_of_the_same_content(store: BlobStore) -> None:
    rounds = 10 if isinstance(store, LocalFolderStore) else 3
    for round_ in range(rounds):
        data = os.urandom(64) * (1024 * (round_ + 1))
        barrier = threading.Barrier(2)
        results: list[object] = []

        def worker(data: bytes = data, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                results.append(store.put(io.BytesIO(data)))
            except Exception as error:  # noqa: BLE001 - handed to the main thread
                results.append(error)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(not isinstance(result, BaseException) for result in results), results
        sha = hashlib.sha256(data).hexdigest()
        assert {result.sha256 for result in results} == {sha}  # type: ignore[attr-defined]
        created = [result.created for result in results]  # type: ignore[attr-defined]
        if isinstance(store, LocalFolderStore):
            assert sorted(created) == [False, True]
        else:  # S3 has no create-if-absent upload; both may write the identical bytes
            assert True in created
        with store.open(sha) as handle:
            assert handle.read() == data
    assert len(list(store.iter_objects())) == rounds
    assert temp_files(store) == []


def test_large_stream_in_bounded_memory(store: BlobStore) -> None:
    source = Generated(50 * MiB)
    tracemalloc.start()
    try:
        blob = store.put(io.BufferedReader(source, MiB))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert blob.size == 50 * MiB and blob.sha256 == source.digest.hexdigest()
    assert peak < 12 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert store.size(blob.sha256) == 50 * MiB
    read = hashlib.sha256()
    with store.open(blob.sha256) as handle:
        while chunk := handle.read(MiB):
            read.update(chunk)
    assert read.hexdigest() == blob.sha256


def test_iter_objects_ignores_temporary_files(store: BlobStore) -> None:
    blob = store.put(io.BytesIO(b"kept"))
    folder: Path = store.temp_dir  # type: ignore[attr-defined]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{os.getpid()}-0123abcd.part").write_bytes(b"half")
    (folder / blob.sha256.replace(blob.sha256[0], "f")).write_bytes(b"not an object")
    if isinstance(store, LocalFolderStore):
        stray = store.objects / blob.sha256[:2] / blob.sha256[2:4]
        (stray / "notes.txt").write_text("stray")
        (stray / ("e" * 64)).write_bytes(b"in the wrong folder")
    else:
        client = store._client
        client.put_object(Bucket=store.bucket, Key=f"{store.prefix}/tmp/x.part", Body=b"half")
        client.put_object(Bucket=store.bucket, Key=f"{store.prefix}/objects/ab/cd/short", Body=b"x")
        client.create_multipart_upload(Bucket=store.bucket, Key=store._key("ab" * 32))
    assert list(store.iter_objects()) == [(blob.sha256, 4)]


def test_clean_temporary_spares_live_writers(store: BlobStore) -> None:
    folder: Path = store.temp_dir  # type: ignore[attr-defined]
    folder.mkdir(parents=True, exist_ok=True)
    live = folder / f"{os.getpid()}-aa.part"
    dead = folder / f"{dead_pid()}-bb.part"
    foreign = folder / "not-ours.part"
    for path in (live, dead, foreign):
        path.write_bytes(b"partial")
    assert store.clean_temporary() == 1
    assert live.exists() and foreign.exists() and not dead.exists()
    assert store.clean_temporary() == 0


@pytest.mark.slow
def test_listing_100k_objects_is_fast(tmp_path: Path) -> None:
    """The target is well under 2 s; on a loaded machine, within 3x of `find` doing the same walk.
    CPU seconds are compared, as wall time swings with whatever else the machine runs.
    The tree is built on tmpfs where there is one, as creating 100,000 files on a busy disk can
    take minutes; listing a warm tree costs the same CPU either way."""
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path
    try:
        store = LocalFolderStore(base / "store")
        made: set[Path] = set()
        for i in range(100_000):
            sha = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
            folder = store.objects / sha[:2] / sha[2:4]
            if folder not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)
            os.close(os.open(folder / sha, os.O_WRONLY | os.O_CREAT, 0o444))
        start = time.process_time()
        count = sum(1 for _ in store.iter_objects())
        took = time.process_time() - start
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            ["find", str(store.objects), "-type", "f", "-printf", "%f %s\n"], check=True, capture_output=True
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        find = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    finally:
        if base != tmp_path:
            shutil.rmtree(base)
    assert count == 100_000
    assert took < max(2.0, 3 * find), f"iter_objects {took:.2f} CPU s, find {find:.2f} CPU s"


def _put_in_child(root: Path) -> None:
    LocalFolderStore(root).put(io.BytesIO(b"child" * MiB))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_put_works_in_a_forked_child(tmp_path: Path) -> None:
    """Workers forked after the parent hashed something must not wait on the parent's threads."""
    import multiprocessing

    store = LocalFolderStore(tmp_path / "store")
    store.put(io.BytesIO(b"parent" * MiB))
    child = multiprocessing.get_context("fork").Process(target=_put_in_child, args=(store.root,))
    child.start()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail("put hung in a forked child")
    assert child.exitcode == 0
    assert store.size(hashlib.sha256(b"child" * MiB).hexdigest()) == 5 * MiB


# -- staging: many objects, one durability barrier (LocalFolderStore) --------------------------


def test_staged_objects_appear_only_when_published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hujjat.adapters.blobs import common, local
    from hujjat.ports import StagingBlobStore

    store = LocalFolderStore(tmp_path / "store")
    assert isinstance(store, StagingBlobStore)
    syncs: list[str] = []
    real_sync = common.sync_filesystem
    monkeypatch.setattr(local, "sync_filesystem", lambda folder: (syncs.append(folder.name), real_sync(folder)))
    known = store.put(io.BytesIO(b"already here"))
    payloads = [os.urandom(1000 + i) for i in range(5)] + [b"already here"]
    staged = [store.stage(io.BytesIO(data)) for data in payloads]
    assert [s.sha256 for s in staged] == [hashlib.sha256(d).hexdigest() for d in payloads]
    assert staged[-1].present and staged[-1].path is None
    assert [sha for sha, _ in store.iter_objects()] == [known.sha256]  # nothing new under a real name
    assert len(temp_files(store)) == 5
    stored = store.publish(staged)
    assert [b.created for b in stored] == [True] * 5 + [False]
    assert syncs == ["tmp", "objects"]  # bytes durable before any name, names durable after
    assert temp_files(store) == []
    for data, blob in zip(payloads, stored, strict=True):
        with store.open(blob.sha256) as handle:
            assert handle.read() == data


def test_staging_the_same_bytes_twice_keeps_one_object(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "store")
    first, second = (store.stage(io.BytesIO(b"twice")) for _ in range(2))
    assert not first.present and not second.present  # neither was published yet
    assert [b.created for b in store.publish([first, second])] == [True, False]
    assert len(list(store.iter_objects())) == 1 and temp_files(store) == []


def test_failed_publish_and_discard_leave_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hujjat.adapters.blobs import local

    store = LocalFolderStore(tmp_path / "store")
    staged = [store.stage(io.BytesIO(os.urandom(100))) for _ in range(3)]

    def broken_sync(folder: Path) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(local, "sync_filesystem", broken_sync)
    with pytest.raises(OSError):
        store.publish(staged)
    store.discard(staged)
    assert temp_files(store) == [] and list(store.iter_objects()) == []


def test_process_killed_after_staging_leaves_only_temporary_files(tmp_path: Path) -> None:
    """A writer killed between stage and publish leaves `.part` files, never an object; the next
    clean-up removes them."""
    root = tmp_path / "store"
    code = (
        "import io, os, sys\n"
        "from pathlib import Path\n"
        "from hujjat.adapters.blobs import LocalFolderStore\n"
        "store = LocalFolderStore(Path(sys.argv[1]))\n"
        "for i in range(4): store.stage(io.BytesIO(os.urandom(5000)))\n"
        "os.kill(os.getpid(), 9)\n"
    )
    child = subprocess.run([sys.executable, "-c", code, str(root)], check=False)
    assert child.returncode == -signal.SIGKILL
    store = LocalFolderStore(root)
    assert len(temp_files(store)) == 4
    assert list(store.iter_objects()) == []
    assert store.clean_temporary() == 4 and temp_files(store) == []


def test_regular_files_are_copied_by_the_kernel_and_hashed_from_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `direct` (the S3 store's local spool) a regular file goes through copy_file_range;
    the digest is of the bytes written (read back)."""
    from hujjat.adapters.blobs import common

    calls = _kernel_copies(monkeypatch)
    data = os.urandom(common.KERNEL_CHUNK * 2 + 12345)  # three kernel copies
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    seen: list[int] = []
    dest, fd = common.open_temp(tmp_path / "spool")
    try:
        with source.open("rb", buffering=0) as handle:
            sha256, size = common.copy_hashing(handle, fd, seen.append)
    finally:
        os.close(fd)
    assert sha256 == hashlib.sha256(data).hexdigest() and size == len(data)
    assert len(calls) >= 3 and sum(seen) == len(data)
    assert dest.read_bytes() == data


def _kernel_copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the length asked of every copy_file_range the store makes."""
    from hujjat.adapters.blobs import common

    calls: list[int] = []
    real = os.copy_file_range

    def counting(src: int, dst: int, count: int, *args: object) -> int:
        calls.append(count)
        return real(src, dst, count, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(common.os, "copy_file_range", counting)
    return calls


def _direct_writes(monkeypatch: pytest.MonkeyPatch, refuse_after: int | None = None) -> list[tuple[int, bool]]:
    """Record (length, O_DIRECT on) of every os.write the store makes; optionally refuse direct
    writes with EINVAL after `refuse_after` of them, as a filesystem without O_DIRECT support would."""
    import errno
    import fcntl

    from hujjat.adapters.blobs import common

    writes: list[tuple[int, bool]] = []
    real = os.write

    def recording(fd: int, data: bytes | memoryview) -> int:
        direct = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & getattr(os, "O_DIRECT", 0))
        if direct and refuse_after is not None and sum(d for _, d in writes) >= refuse_after:
            raise OSError(errno.EINVAL, "Invalid argument")
        writes.append((len(data), direct))
        return real(fd, data)

    monkeypatch.setattr(common.os, "write", recording)
    return writes


@pytest.mark.parametrize("refuse_after", [None, 1], ids=["direct", "refused-mid-way"])
def test_local_store_writes_around_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refuse_after: int | None
) -> None:
    """A local store copies a file of at least `direct_from` bytes with O_DIRECT writes of whole blocks and
    writes the partial last block buffered; a filesystem that refuses direct writes (at once or
    mid-way) gets the rest buffered. The object holds exactly the bytes, whatever the path taken."""
    writes = _direct_writes(monkeypatch, refuse_after)
    data = os.urandom(2 * MiB + 12345)  # two whole buffers, then a tail that is not whole blocks
    source = tmp_path / "photo.bin"
    source.write_bytes(data)
    store = LocalFolderStore(tmp_path / "store", direct_from=0)
    with source.open("rb", buffering=0) as handle:
        staged = store.stage(handle)
    [blob] = store.publish([staged])
    assert blob.sha256 == hashlib.sha256(data).hexdigest() and blob.size == len(data)
    with store.open(blob.sha256) as stored:
        assert stored.read() == data
    assert sum(length for length, _ in writes) == len(data)
    assert all(length % 4096 == 0 for length, direct in writes if direct)
    if writes[0][1]:  # this filesystem takes O_DIRECT (tmpfs does not: then all is buffered)
        expected = [(MiB, True), (MiB, True), (12288, True), (57, False)]  # the tail: 3 blocks + 57 bytes
        if refuse_after is not None:
            expected = [(MiB, True), (MiB, False), (12345, False)]
        assert writes == expected


def test_each_size_of_file_gets_its_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that fits one buffer is read and written through this thread's reused buffers
    (buffered, no kernel copy); a larger one is copied by the kernel; one of `direct_from` bytes
    or more is written with O_DIRECT where the filesystem takes it. Every object holds exactly
    its bytes, and a thread's buffers serve file after file."""

    writes = _direct_writes(monkeypatch)
    kernel = _kernel_copies(monkeypatch)
    store = LocalFolderStore(tmp_path / "store", direct_from=2 * MiB)
    sizes = {"photo": 600_000, "other photo": 700_001, "large": MiB + 5, "video": 2 * MiB + 12345}
    for name, size in sizes.items():
        data = os.urandom(size)
        source = tmp_path / name
        source.write_bytes(data)
        writes.clear()
        kernel.clear()
        with source.open("rb", buffering=0) as handle:
            [blob] = store.publish([store.stage(handle)])
        with store.open(blob.sha256) as stored:
            assert stored.read() == data and blob.sha256 == hashlib.sha256(data).hexdigest(), name
        if name.endswith("photo"):
            assert not kernel and writes == [(size, False)], name
        elif name == "large":
            assert kernel and not writes
        else:  # direct where this filesystem takes O_DIRECT, else copied by the kernel
            assert (not kernel and writes[0] == (MiB, True)) or (kernel and not writes)


def test_files_the_kernel_reports_empty_are_read_instead(tmp_path: Path) -> None:
    """procfs files say size 0 and copy_file_range copies nothing from them: read them instead."""
    store = LocalFolderStore(tmp_path / "store")
    with open("/proc/self/status", "rb", buffering=0) as handle:
        blob = store.put(handle)
    with store.open(blob.sha256) as stored:
        assert b"Name:" in stored.read()
    assert blob.size > 0
