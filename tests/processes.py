"""Waiting for a process the test did not start itself (a worker or parser child of a killed importer)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def ends_within(pid: int, seconds: float = 30) -> bool:
    """True if `pid` exits within `seconds`; otherwise kill it (so no test leaves it behind) and say False."""
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        return False
    return True
