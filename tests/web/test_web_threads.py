"""A server process runs pages on few request threads (entrypoints/web/threads.py), so exports,
which may take minutes, run on threads of their own: while more exports than there are request
threads are under way, pages are still answered."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hujjat.entrypoints.web import pages_more
from hujjat.entrypoints.web.threads import LONG_THREADS, REQUEST_THREADS
from tests.web.support import WebArchive, client_for, login


def test_exports_leave_the_request_threads_to_pages(fresh_archive: WebArchive, monkeypatch: pytest.MonkeyPatch) -> None:
    assert REQUEST_THREADS < REQUEST_THREADS + 1 <= LONG_THREADS
    running, release = threading.Semaphore(0), threading.Event()
    write_bag = pages_more.write_bag

    def slow_bag(*args: Any, **kwargs: Any) -> Any:
        running.release()
        release.wait(30)
        return write_bag(*args, **kwargs)

    monkeypatch.setattr(pages_more, "write_bag", slow_bag)
    exports = REQUEST_THREADS + 1
    with client_for(fresh_archive) as c, ThreadPoolExecutor(exports + 1) as pool:
        csrf = login(c, "edr")
        public = fresh_archive.incidents["public"]
        try:
            started = [pool.submit(c.post, "/exports/bag", data={"csrf_token": csrf, "incidents": public})
                       for _ in range(exports)]
            assert all(running.acquire(timeout=20) for _ in range(exports))  # all under way at once
            page = pool.submit(c.get, "/incidents")
            assert page.result(timeout=20).status_code == 200
        finally:
            release.set()
        assert [f.result(timeout=60).status_code for f in started] == [200] * exports
