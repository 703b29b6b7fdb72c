"""Peak RSS while ingesting one 4 GB file (issue 2 target: under 200 MB), against `cp` of the same
file and an idle `hujjat --help` measured in the same run.

    .venv/bin/python bench/ingest_rss.py [--gb 4] [--work bench/_work]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import HUJJAT, init_archive, machine, peak_rss_kib


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=4.0)
    parser.add_argument("--work", type=Path, default=Path("bench/_work/rss"))
    args = parser.parse_args()
    work: Path = args.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    print(f"machine: {machine()}")
    big = work / "long_video.mp4"
    block = os.urandom(64 * 1024 * 1024)
    with big.open("wb") as out:
        for i in range(int(args.gb * 16)):
            out.write(i.to_bytes(8, "big") + block[8:])
    size = big.stat().st_size
    _, idle_rss = peak_rss_kib([*HUJJAT, "--help"])
    cp_s, cp_rss = peak_rss_kib(["cp", str(big), str(work / "copy")])
    (work / "copy").unlink()
    archive = work / "archive"
    init_archive(archive)
    add_s, add_rss = peak_rss_kib([*HUJJAT, "add", str(big), "--archive", str(archive), "--json"])
    print(f"file: {size / 1024**3:.2f} GiB")
    print(f"idle `hujjat --help`: peak RSS {idle_rss / 1024:.0f} MiB")
    print(f"cp: {cp_s:.1f} s, peak RSS {cp_rss / 1024:.0f} MiB")
    print(
        f"hujjat add: {add_s:.1f} s ({size / add_s / 1024**2:.0f} MiB/s), peak RSS {add_rss / 1024:.0f} MiB "
        f"(target < 200 MiB; {add_rss / idle_rss:.2f}x the idle interpreter)"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
