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


def _vm_hwm_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_kib(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of the program itself. The kernel's rusage maxrss would also
    count the pre-exec copy of this (large) benchmark process, so the high-water mark VmHWM of the
    exec'd program is sampled from /proc every 20 ms instead (it only grows; the last sample is
    taken just before exit)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)
    peak = 0
    while proc.poll() is None:
        hwm = _vm_hwm_kib(proc.pid)
        if hwm is not None:
            peak = max(peak, hwm)
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{command} failed with status {proc.returncode}")
    return elapsed, peak


def init_archive(root: Path, *, dedup: bool = True) -> None:
    subprocess.run([*HUJJAT, "init", str(root)], check=True, stdout=subprocess.DEVNULL)
    if not dedup:
        with (root / "hujjat.toml").open("a") as handle:
            handle.write("\n[dedup]\nenabled = false\n")


def machine() -> str:
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
