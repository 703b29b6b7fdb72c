"""Helpers shared by the foundation benchmarks: timing, child peak RSS, archive set-up."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HUJJAT = [sys.executable, "-m", "hujjat.entrypoints.cli.main"]


def timed(command: list[str] | str, **kwargs: object) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process (and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(command, check=True, shell=isinstance(command, str), **kwargs)  # type: ignore[call-overload]
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(after, before)


def peak_rss_kib(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run under GNU time semantics without needing /usr/bin/time: wait4 gives the child's rusage."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0,):
        raise SystemExit(f"{command} failed with status {status}")
    return elapsed, usage.ru_maxrss


def init_archive(root: Path, *, dedup: bool = True) -> None:
    subprocess.run([*HUJJAT, "init", str(root)], check=True, stdout=subprocess.DEVNULL)
    if not dedup:
        with (root / "hujjat.toml").open("a") as handle:
            handle.write("\n[dedup]\nenabled = false\n")


def machine() -> str:
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
