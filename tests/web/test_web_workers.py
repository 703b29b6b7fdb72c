"""`hujjat serve --workers N` on Linux: every server process has its own listening socket
(SO_REUSEPORT), so the kernel spreads connections over the processes; with uvicorn's one shared
socket, 19 of 20 keep-alive connections of the web benchmark went to one process."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hujjat.bootstrap import init_archive
from hujjat.entrypoints.web.workers import balanced_sockets_supported

pytestmark = pytest.mark.skipif(not balanced_sockets_supported(), reason="SO_REUSEPORT balancing is Linux's")

LISTEN, ESTABLISHED = "0A", "01"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sockets(port: int, state: str) -> set[int]:
    """Inodes of the IPv4 TCP sockets in `state` whose local port is `port`."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
            found.add(int(fields[9]))
    return found


def _holders(inodes: set[int], pids: list[int]) -> dict[int, set[int]]:
    """pid -> the inodes among `inodes` it has open."""
    held: dict[int, set[int]] = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and int(target[8:-1]) in inodes:
                held.setdefault(pid, set()).add(int(target[8:-1]))
    return held


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_each_server_process_listens_on_its_own_socket_and_gets_connections(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    init_archive(root, actor="tests").close()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "hujjat.entrypoints.cli.main", "serve", "--port", str(port),
                               "--workers", "2", "--no-jobs", "--archive", str(root)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    connections: list[http.client.HTTPConnection] = []
    try:
        deadline = time.monotonic() + 60
        while True:  # both processes serving: each answers on its own socket
            listening = _sockets(port, LISTEN)
            workers = [p for p in _children(server.pid) if _holders(listening, [p])]
            if len(workers) == 2:
                break
            assert server.poll() is None and time.monotonic() < deadline, server.stdout.read().decode()  # type: ignore[union-attr]
            time.sleep(0.2)
        held = _holders(listening, workers)
        assert len(listening) == 2 and all(len(inodes) == 1 for inodes in held.values())
        assert held[workers[0]] != held[workers[1]]
        for _ in range(40):  # keep-alive connections, as a load generator's
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/login")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            connections.append(conn)
        served = _holders(_sockets(port, ESTABLISHED), workers)
        assert sorted(len(served.get(p, ())) for p in workers)[0] >= 5  # both take a share (hash of the ports)
    finally:
        for conn in connections:
            conn.close()
        server.terminate()
        server.wait(timeout=30)
    assert not any(Path(f"/proc/{p}").exists() and "zombie" not in Path(f"/proc/{p}/status").read_text()
                   for p in workers)  # the processes stopped with the server
