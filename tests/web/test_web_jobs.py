"""Upload jobs through the real queue: the consumer thread started with the app picks the job up,
on the embedded SQLite queue and on Redis when `[jobs] redis` is configured."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from hujjat.adapters.credentials import fast_credentials
from tests.web.support import build_archive, login

REDIS = ("127.0.0.1", 6379)


def _redis_up() -> bool:
    try:
        socket.create_connection(REDIS, timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.parametrize("queue", ["sqlite", "redis"])
def test_upload_job_runs_on_the_queue(tmp_path: Path, queue: str) -> None:
    from fastapi.testclient import TestClient

    from hujjat.entrypoints.web.app import create_app

    if queue == "redis" and not _redis_up():
        pytest.skip("no Redis server on 127.0.0.1:6379")
    web = build_archive(tmp_path / "archive")
    if queue == "redis":
        with (web.root / "hujjat.toml").open("a") as handle:
            handle.write('\n[jobs]\nredis = "redis://127.0.0.1:6379/0"\n')
    app = create_app(web.root, credentials=fast_credentials(), run_jobs=True)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        csrf = login(c, "ed")
        r = c.post("/upload", data={"csrf_token": csrf, "kind": "files"}, follow_redirects=False,
                   files=[("files", ("queued.txt", f"through {queue}".encode(), "text/plain"))])
        assert r.status_code == 303
        deadline = time.monotonic() + 30
        while True:
            fragment = c.get(r.headers["location"] + "/progress").text
            if "job done" in fragment or "job failed" in fragment or time.monotonic() > deadline:
                break
            assert "hx-trigger" in fragment  # still polling
            time.sleep(0.2)
        assert "job done" in fragment, fragment
        assert "queued.txt" in c.get("/evidence?name=queued").text
        assert not any((web.root / "uploads").iterdir())
