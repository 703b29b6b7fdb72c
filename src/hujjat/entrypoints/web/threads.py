"""How many threads run a server process's synchronous handlers, and the threads of its own that
long handlers (exports) run on.

A page is a few milliseconds of Python under one interpreter lock, so more request threads add no
parallelism: runnable threads only take the lock from each other every switch interval, every page
in progress finishes late, and the tail grows. In bench/web.py (two processes on two CPUs, 20
clients) 2 request threads a process instead of 16 took the list group's p95 from 119-175 to 54-72
ms and the detail group's from 58-68 to 32-42 ms (bench/RESULTS.md). Two, not one: a page waiting
for SQLite's write lock (the custody entry of a view) or for a disk read leaves the other running.
A handler that may take seconds (building an export) must then not hold one of those two threads:
`long_running` gives it threads of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

REQUEST_THREADS = 2  # the default thread pool's size in a server process (set at start-up)
LONG_THREADS = 4  # exports running at once in a process; more wait for one of these

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _long_threads() -> anyio.CapacityLimiter:
    return anyio.CapacityLimiter(LONG_THREADS)


def use_request_threads() -> None:
    """Size the default pool (call on the server's event loop, at start-up)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS


def long_running(handler: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """The synchronous `handler` as an async one that runs it on the long-work threads; FastAPI
    reads the parameters from the wrapped signature."""

    @functools.wraps(handler)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return await anyio.to_thread.run_sync(functools.partial(handler, *args, **kwargs), limiter=_long_threads())

    return run
