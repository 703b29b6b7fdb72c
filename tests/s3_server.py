"""A standalone S3-compatible server for tests: moto's server mode in a process of its own.

Fixtures (load with `pytest_plugins = ["tests.s3_server"]` in tests/conftest.py, or import them):
- `s3_server` (session): starts `python -m moto.server` on 127.0.0.1 at a free port, sets dummy
  AWS credentials in the environment (inherited by subprocesses such as a real `hujjat` run),
  and yields an `S3Server` with `endpoint_url`, `region`, `client()` and `new_bucket()`.
- `s3_bucket` (function): a fresh, empty bucket on that server; its name.

The server runs in its own process, not a thread, so it does not share the test's GIL or show up
in the test's tracemalloc figures, and it outlives nothing: it is terminated at session end.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

REGION = "us-east-1"
_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_UNSET = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    region: str = REGION

    def client(self) -> Any:
        import boto3

        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, region_name=self.region)

    def new_bucket(self, prefix: str = "hujjat-test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    if importlib.util.find_spec("moto.server") is None:
        pytest.skip("moto[server] is not installed (pip install -e '.[dev]')")
    with pytest.MonkeyPatch.context() as env:
        for name, value in _CREDENTIALS.items():
            env.setenv(name, value)
        for name in _UNSET:
            env.delenv(name, raising=False)
        for _attempt in range(3):  # the free port can be taken between probe and bind
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if _wait_for(port, process):
                break
            process.kill()
            process.wait()
        else:
            pytest.fail("moto's S3 server did not start")
        try:
            yield S3Server(f"http://127.0.0.1:{port}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()
