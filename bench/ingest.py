"""Ingest throughput on ~2 GB of mixed files vs `cp` + `sync` + `openssl dgst -sha256` (issue 2).

The set: many phone-sized JPEG photos with EXIF/GPS (unique bytes each: a real photo plus a random
tail, which JPEG readers ignore) and a few large real MP4 videos (likewise padded). The baseline
copies the folder, syncs it to disk (Hujjat fsyncs every blob) and hashes every copy with one
openssl process. Hujjat runs `hujjat add` with metadata extraction on, on a fresh archive. The two
alternate `--rounds` times (the baseline's own time swings by 2x between runs here: its `sync` of
2 GiB), and each round's ratio and their median are printed; then one run with everything on.

`hujjat add` runs an installed copy: the package being measured, copied under --work and
compiled to bytecode once before the timed runs, as `pip install` does. Run from the source
tree with PYTHONDONTWRITEBYTECODE=1 (set in this sandbox), every `hujjat add` recompiled its
~130 modules: ~0.2 s of each run, on one core, before the first file (bench/RESULTS.md).
`--compile-each-run` measures that way.

`--prime` writes and deletes 3 GiB just before each timed command, so that both find freshly
freed memory for their page cache. Without it the order of the rounds favours hujjat on this VM:
the baseline's `cp` ran in 0.8 s or in 8.3 s for the same 2 GiB, depending on whether the guest
had just freed that much page cache (memory it had given back to its host is slow to fill), and
the baseline follows hujjat's clean-up, which frees ~1 GiB (its videos are written around the page
cache), while hujjat follows the baseline's, which frees 2 GiB (bench/RESULTS.md).

    .venv/bin/python bench/ingest.py [--gb 2] [--work bench/_work] [--rounds 3] [--no-all-on] [--compile-each-run] [--prime]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import HUJJAT, init_archive, machine, peak_rss_kib, timed

import hujjat
from hujjat.processing import synthetic


def generate(folder: Path, total_gb: float) -> tuple[int, int]:
    folder.mkdir(parents=True)
    photos_dir, videos_dir = folder / "photos", folder / "videos"
    photos_dir.mkdir()
    videos_dir.mkdir()
    bases = []
    for i in range(12):
        path = folder / f"base{i}.jpg"
        synthetic.make_photo(path, width=1600, height=1200, seed=i, gps=(55.7 + i / 100, 37.6), taken_at=None)
        bases.append(path.read_bytes())
        path.unlink()
    video = folder / "base.mp4"
    synthetic.make_video(video, seconds=4, fps=15, width=640, height=360, seed=1, location=(55.75, 37.61), created_at=None)
    video_bytes = video.read_bytes()
    video.unlink()
    target = int(total_gb * 1024**3)
    video_share = target * 0.55
    written = files = 0
    chunk = os.urandom(8 * 1024 * 1024)
    for i in range(4):  # large videos
        with (videos_dir / f"raid_{i}.mp4").open("wb") as out:
            out.write(video_bytes)
            size = len(video_bytes)
            while size < video_share / 4:
                out.write(os.urandom(16) + chunk)
                size += len(chunk) + 16
            written += size
            files += 1
    i = 0
    while written < target:  # ~600 KB photos
        data = bases[i % len(bases)] + os.urandom(16) + chunk[: 300_000 + (i % 7) * 50_000]
        (photos_dir / f"IMG_{i:05d}.jpg").write_bytes(data)
        written += len(data)
        files += 1
        i += 1
    return files, written


def baseline(work: Path) -> float:
    """`cp -r` + `sync` + `openssl dgst -sha256` of every copy: wall seconds."""
    elapsed, _ = timed(
        f"cp -r {work / 'src'} {work / 'copy'} && sync && "
        f"find {work / 'copy'} -type f -print0 | xargs -0 openssl dgst -sha256 > /dev/null"
    )
    shutil.rmtree(work / "copy")
    os.sync()
    return elapsed


def prime(work: Path) -> None:
    """Write and delete 3 GiB, leaving that much freshly freed memory in the guest (see --prime)."""
    scratch = work / "scratch"
    chunk = bytes(8 << 20)
    with scratch.open("wb") as out:
        for _ in range(384):
            out.write(chunk)
    os.sync()
    scratch.unlink()
    os.sync()


def installed_copy(work: Path) -> dict[str, str]:
    """Copy the hujjat package being measured under `work` and compile it; the environment that
    runs `hujjat` (and its metadata child) from that copy. (PYTHONPYCACHEPREFIX would also move
    every other module's cache, so the standard library would be compiled on every run instead.)"""
    site = work / "installed"
    shutil.copytree(Path(hujjat.__file__).parent, site / "hujjat", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(site / "hujjat")], check=True)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def hujjat_add(work: Path, *, dedup: bool, env: dict[str, str] | None) -> tuple[float, int]:
    """`hujjat add` of the set into a fresh archive: wall seconds and peak RSS (KiB)."""
    archive = work / f"archive-{int(dedup)}"
    init_archive(archive, dedup=dedup)
    os.sync()
    result = peak_rss_kib([*HUJJAT, "add", str(work / "src"), "--archive", str(archive), "--json"], env)
    shutil.rmtree(archive)
    os.sync()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--work", type=Path, default=Path("bench/_work/ingest"))
    parser.add_argument(
        "--rounds", type=int, default=3, help="baseline and hujjat (metadata on) alternately, this many times each"
    )
    parser.add_argument("--no-all-on", action="store_true", help="skip the run with fingerprints and search on")
    parser.add_argument(
        "--compile-each-run", action="store_true", help="no bytecode cache: each run compiles hujjat's sources"
    )
    parser.add_argument("--prime", action="store_true", help="write and delete 3 GiB before each timed command")
    args = parser.parse_args()
    work: Path = args.work
    shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {machine()}")
    files, size = generate(work / "src", args.gb)
    print(f"set: {files} files, {size / 1024**3:.2f} GiB")
    env = None if args.compile_each_run else installed_copy(work)
    print("hujjat add runs " + ("from the source tree, compiled by each run" if env is None else "an installed, compiled copy"))
    os.sync()

    def rate(seconds: float) -> str:
        return f"{size / seconds / 1024**2:.0f} MiB/s, {files / seconds:.0f} files/s"

    ratios = []
    for round_ in range(1, args.rounds + 1):  # alternate, so both see the same drift of the machine
        if args.prime:
            prime(work)
        base_s = baseline(work)
        if args.prime:
            prime(work)
        elapsed, rss = hujjat_add(work, dedup=False, env=env)
        ratios.append(base_s / elapsed)
        print(
            f"round {round_}: baseline cp + sync + openssl dgst -sha256 {base_s:.2f} s ({rate(base_s)}); "
            f"hujjat add (metadata on, fingerprints off) {elapsed:.2f} s ({rate(elapsed)}, peak RSS "
            f"{rss / 1024:.0f} MiB); ratio baseline/hujjat = {ratios[-1]:.2f}; load {os.getloadavg()[0]:.1f}"
        )
    print(
        f"ratio baseline/hujjat over {len(ratios)} rounds: median {statistics.median(ratios):.2f}, "
        f"min {min(ratios):.2f}, max {max(ratios):.2f} (>= 1 means at least as fast)"
    )
    if not args.no_all_on:
        elapsed, rss = hujjat_add(work, dedup=True, env=env)
        print(
            f"hujjat add (all processing on: PDQ fingerprints, search): {elapsed:.1f} s ({rate(elapsed)}, "
            f"peak RSS {rss / 1024:.0f} MiB)"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
