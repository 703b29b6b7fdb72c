"""Blob store benchmarks, each against a baseline measured in the same run.

1. Listing: `LocalFolderStore.iter_objects()` over N objects (default 100,000) in the
   `objects/ab/cd/<sha256>` layout, against `find objects -type f -printf '%f %s'` (a C tool doing
   the same walk and stat). Target: well under 2 s for 100,000.
2. Writing: `LocalFolderStore.put()` of one large file (default 1024 MiB; hash while copying,
   fsync, atomic link), against `cp` then `sync` of the copy then `openssl dgst -sha256`.
3. The same `put` into `S3Store` when --s3-endpoint is given (e.g. a local MinIO or moto server).

Run: .venv/bin/python bench/blob_store.py [--objects 100000] [--mib 1024] [--s3-endpoint URL]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from hujjat.adapters.blobs.local import LocalFolderStore


def best_of(runs: int, action: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def bench_listing(work: Path, count: int) -> None:
    store = LocalFolderStore(work / "listing")
    for i in range(count):
        sha = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
        folder = store.objects / sha[:2] / sha[2:4]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / sha).write_bytes(b"x" * (i % 7))
    listed = sum(1 for _ in store.iter_objects())
    assert listed == count, listed
    ours = best_of(3, lambda: sum(1 for _ in store.iter_objects()))
    cpu_start = time.process_time()
    sum(1 for _ in store.iter_objects())
    cpu = time.process_time() - cpu_start
    find = best_of(
        3,
        lambda: subprocess.run(
            ["find", str(store.objects), "-type", "f", "-printf", "%f %s\n"],
            check=True,
            stdout=subprocess.DEVNULL,
        ),
    )
    print(
        f"listing {count} objects: iter_objects {ours:.3f} s ({cpu:.3f} CPU s), find {find:.3f} s, "
        f"ratio {ours / find:.2f}"
    )


def make_file(path: Path, mib: int) -> None:
    block = os.urandom(1 << 20)
    with path.open("wb") as out:
        for i in range(mib):
            out.write(i.to_bytes(8, "big") + block[8:])


def bench_put(work: Path, mib: int, s3_endpoint: str | None) -> None:
    source = work / "source.bin"
    make_file(source, mib)
    subprocess.run(["cat", str(source)], check=True, stdout=subprocess.DEVNULL)  # warm the page cache

    def baseline() -> None:
        copy = work / "copy.bin"
        subprocess.run(["cp", str(source), str(copy)], check=True)
        subprocess.run(["sync", str(copy)], check=True)
        subprocess.run(["openssl", "dgst", "-sha256", str(copy)], check=True, stdout=subprocess.DEVNULL)
        copy.unlink()

    def ours() -> None:
        store_root = work / "store"
        with source.open("rb") as handle:
            LocalFolderStore(store_root).put(handle)
        shutil.rmtree(store_root)

    base = best_of(3, baseline)
    mine = best_of(3, ours)
    rate = mib / mine
    print(
        f"put {mib} MiB: LocalFolderStore.put {mine:.2f} s ({rate:.0f} MiB/s), "
        f"cp+sync+openssl {base:.2f} s, ratio {base / mine:.2f} (>1 means put is faster)"
    )
    if s3_endpoint:
        from hujjat.adapters.blobs.s3 import S3Store

        client_store = S3Store(f"bench-{os.getpid()}", "bench", endpoint_url=s3_endpoint, spool_dir=work)
        client_store._client.create_bucket(Bucket=client_store.bucket)
        with source.open("rb") as handle:
            start = time.perf_counter()
            client_store.put(handle)
            took = time.perf_counter() - start
        print(f"put {mib} MiB into S3 at {s3_endpoint}: {took:.2f} s ({mib / took:.0f} MiB/s)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--s3-endpoint")
    parser.add_argument("--dir", type=Path, help="where to work (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        work = Path(folder)
        print(f"cpus {os.cpu_count()}, work folder {work}")
        if args.objects:
            bench_listing(work, args.objects)
        if args.mib:
            bench_put(work, args.mib, args.s3_endpoint)


if __name__ == "__main__":
    main()
