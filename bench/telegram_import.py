"""Benchmark: `hujjat import telegram` of a generated channel export.

Default size is the issue's target: 100,000 messages, 10,000 media files (distinct small valid JPEGs),
into a fresh SQLite archive; target under 60 s and under 300 MB peak RSS. The import runs in a
child process (so its peak RSS is its own: the largest of it and its own children, the search
index worker and the metadata reader), then again to time an idempotent re-import.
Baseline, measured in the same run: streaming the same result.json with ijson and hashing every
media file (the I/O and parsing any importer must do), so the ratio shows the import's overhead.

    .venv/bin/python bench/telegram_import.py [--messages N] [--media M] [--no-exiftool] [--no-search-index]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ijson
from PIL import Image


def _photo(path: Path) -> None:
    """A real, distinct small JPEG (random grey noise, ~2 KB): readable by Pillow, ExifTool and the
    fingerprinter like a channel's photos, and no two alike."""
    Image.frombytes("L", (48, 32), os.urandom(48 * 32)).save(path, "JPEG", quality=90)


def generate(folder: Path, messages: int, media: int) -> None:
    (folder / "photos").mkdir(parents=True)
    every = max(1, messages // media) if media else 0
    with (folder / "result.json").open("w", encoding="utf-8") as out:
        out.write('{\n "name": "Bench Channel",\n "type": "public_channel",\n "id": 1292077344,\n "messages": [\n')
        made = 0
        for mid in range(1, messages + 1):
            unix = 1700000000 + mid * 30
            msg: dict[str, object] = {
                "id": mid, "type": "message", "date": "2023-11-15T00:00:00", "date_unixtime": str(unix),
                "from": "Bench Channel", "from_id": "channel1292077344",
            }  # fmt: skip
            if every and mid % every == 0 and made < media:
                name = f"photos/photo_{made}@15-11-2023_00-00-00.jpg"
                _photo(folder / name)
                msg.update({"photo": name, "width": 640, "height": 480})
                made += 1
            text = [f"Report {mid}: raid near ", {"type": "hashtag", "text": "#Kherson"}, " see ",
                    {"type": "text_link", "text": "link", "href": f"https://example.org/{mid}"}]  # fmt: skip
            msg["text"] = text
            msg["text_entities"] = [p if isinstance(p, dict) else {"type": "plain", "text": p} for p in text]
            out.write(json.dumps(msg, indent=1, ensure_ascii=False))
            out.write(",\n" if mid < messages else "\n")
        out.write(" ]\n}\n")


def baseline(folder: Path) -> float:
    start = time.perf_counter()
    with (folder / "result.json").open("rb") as handle:
        count = sum(1 for _ in ijson.items(handle, "messages.item"))
    for path in (folder / "photos").iterdir():
        hashlib.sha256(path.read_bytes()).hexdigest()
    assert count > 0
    return time.perf_counter() - start


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"import failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--media", type=int, default=10_000)
    parser.add_argument("--no-exiftool", action="store_true", help="HUJJAT_EXIFTOOL=0 for the import")
    parser.add_argument("--no-search-index", action="store_true", help="import with --no-search-index")
    options = parser.parse_args()
    env = dict(os.environ)
    if options.no_exiftool:
        env["HUJJAT_EXIFTOOL"] = "0"
    hujjat = [sys.executable, "-m", "hujjat.entrypoints.cli.main"]
    with tempfile.TemporaryDirectory(prefix="hujjat-bench-tg-") as tmp:
        export, archive = Path(tmp) / "export", Path(tmp) / "archive"
        started = time.perf_counter()
        generate(export, options.messages, options.media)
        size = (export / "result.json").stat().st_size
        print(f"generated {options.messages} messages, {options.media} media, result.json {size / 1e6:.1f} MB "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        base = baseline(export)
        load_start = os.getloadavg()[0]
        subprocess.run([*hujjat, "init", str(archive)], check=True, capture_output=True, env=env)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        command = [*hujjat, "import", "telegram", str(export), "--json", "-A", str(archive)]
        command += ["--no-search-index"] if options.no_search_index else []
        elapsed, summary = run_child(command, env)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb = usage.ru_maxrss / 1024
        cpu = (usage.ru_utime - before.ru_utime) + (usage.ru_stime - before.ru_stime)
        again, second = run_child(command, env)
    print(f"import: {elapsed:.1f} s wall, {cpu:.1f} s CPU (user+sys of the import and its children: index worker, "
          f"metadata reader, exiftool), "
          f"{options.messages / elapsed:,.0f} messages/s, peak RSS {peak_mb:.0f} MB")  # fmt: skip
    print(f"load average at the start {load_start:.1f}, at the end {os.getloadavg()[0]:.1f}, on {os.cpu_count()} CPUs "
          "(wall time grows with it)")  # fmt: skip
    print(f"  posts {summary['posts']}, media {summary['media']}")
    print(f"re-import (nothing changes): {again:.1f} s, posts {second['posts']}")
    print(f"baseline (ijson parse + sha256 of media): {base:.2f} s; import/baseline = {elapsed / base:.1f}x wall")
    print(f"exiftool: {'off' if options.no_exiftool else 'on when installed'}; "
          f"posts indexed for search: {'no' if options.no_search_index else 'yes'}; targets: < 60 s, < 300 MB")  # fmt: skip


if __name__ == "__main__":
    main()
