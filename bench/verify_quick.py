"""`hujjat verify --quick` on an archive of 100,000 items (issue 2 target: under 10 s), against the
floor of listing the same store with `find` and counting rows with `sqlite3`, in the same run.

The archive is built with the real intake service (search indexing and fingerprints off, to build
faster; they do not change what verify reads).

    .venv/bin/python bench/verify_quick.py [--items 100000] [--work bench/_work]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import HUJJAT, init_archive, machine, peak_rss_kib, timed

from hujjat.bootstrap import open_archive
from hujjat.services.checkpoints import sign_checkpoint
from hujjat.services.intake import IntakeRequest, ingest_paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("bench/_work/verify"))
    args = parser.parse_args()
    work: Path = args.work
    shutil.rmtree(work, ignore_errors=True)
    src = work / "src"
    print(f"machine: {machine()}")
    for i in range(args.items):
        folder = src / f"{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"note{i}.txt").write_text(f"witness note {i}\n")
    archive = work / "archive"
    init_archive(archive, dedup=False)
    start = time.perf_counter()
    arch = open_archive(archive, "bench")
    arch.ports.search = None
    arch.ports.fingerprints = None
    summary = ingest_paths(arch.ports, [src], IntakeRequest(source="bench"))
    sign_checkpoint(arch.ports)
    arch.close()
    build_s = time.perf_counter() - start
    print(f"built: {summary.count('added')} items in {build_s:.0f} s ({summary.count('added') / build_s:.0f} items/s)")
    floor_s, _ = timed(
        f"find {archive / 'store' / 'objects'} -type f -printf '%s\\n' | wc -l > /dev/null && "
        f"sqlite3 {archive / 'hujjat.db'} 'select count(*), sum(size) from items' > /dev/null"
    )
    quick_s, rss = peak_rss_kib([*HUJJAT, "verify", "--quick", "--archive", str(archive)])
    print(f"floor (find + sqlite3 count): {floor_s:.2f} s")
    print(
        f"hujjat verify --quick: {quick_s:.2f} s for {args.items} items (target < 10 s), "
        f"peak RSS {rss / 1024:.0f} MiB; ratio verify/floor = {quick_s / floor_s:.1f}"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
