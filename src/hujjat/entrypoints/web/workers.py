"""Several server processes, each with its own listening socket (SO_REUSEPORT), for
`hujjat serve --workers N`.

uvicorn's own `--workers` has every process accept from one shared socket. Whichever process
wakes first takes the new connection, and with keep-alive a connection stays with the process
that accepted it. In the web benchmark 19 of wrk's 20 connections went to one of the two
processes: one Python process (one GIL) served nearly everything while the other idled. With a
socket per process, Linux spreads new connections over the sockets by a hash of their addresses,
so each process gets its share. Where the platform has no such balancing (not Linux), the
shared socket stays (`balanced_sockets_supported`).
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import threading
from typing import Any

APP_FACTORY = "hujjat.entrypoints.web.app:app_from_env"
STARTUP_FAILURE = 3  # uvicorn's exit status when a process fails before it serves (uvicorn.config)
BACKLOG = 2048  # uvicorn's default


def balanced_sockets_supported() -> bool:
    """SO_REUSEPORT spreads connections over the sockets only on Linux (on the BSDs and macOS one
    socket gets them all). Linux lets only processes of the same user join a port's group."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """One member of the port's SO_REUSEPORT group (every member must set the option)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def _worker(sock: socket.socket, options: dict[str, Any]) -> None:
    """A server process: uvicorn on the socket it was given (the archive comes from the
    environment, see app.app_from_env)."""
    import uvicorn

    uvicorn.Server(uvicorn.Config(APP_FACTORY, factory=True, **options)).run(sockets=[sock])


def serve_processes(host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Run `workers` server processes, each on its own socket, until SIGINT or SIGTERM; a process
    that dies is replaced on the same socket (connections waiting in its queue are kept). All
    sockets are bound here first, so a port in use fails at once, in this process."""
    sockets = [listening_socket(host, port) for _ in range(workers)]
    spawn = multiprocessing.get_context("spawn")

    def start(index: int) -> Any:
        process = spawn.Process(target=_worker, args=(sockets[index], options), daemon=False)
        process.start()
        return process

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start(i) for i in range(workers)]
    try:
        while not stop.wait(0.5):
            for index, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    raise SystemExit("a server process failed to start (see its error above)")
                processes[index] = start(index)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        for process in processes:
            process.join()
        for sock in sockets:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
