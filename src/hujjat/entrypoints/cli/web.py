"""`hujjat serve`: the web application and REST API on uvicorn, with the upload job consumer
running in the same process (huey threads) unless --no-jobs is given."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hujjat.entrypoints.cli.common import DEFAULT_ARCHIVE, ArchiveOpt, err


def serve_archive(root: Path, host: str = "127.0.0.1", port: int = 8000, jobs: bool = True,
                  proxy: bool = False, workers: int = 1) -> None:
    import uvicorn

    from hujjat.bootstrap import open_archive
    from hujjat.entrypoints.web.app import create_app
    from hujjat.entrypoints.web.workers import balanced_sockets_supported, serve_processes

    open_archive(root).close()  # a clear one-line error for a missing archive, before the server starts
    options = {"host": host, "port": port, "log_level": "warning", "proxy_headers": proxy,
               "forwarded_allow_ips": "*" if proxy else None, "server_header": False, "access_log": False}
    err.print(f"serving {escape(str(root))} on http://{escape(host)}:{port}/  (Ctrl+C stops)")
    if workers > 1:
        # Several processes share the archive; each runs a job consumer thread (unless --no-jobs)
        # and the queue (SQLite or Redis) hands every job to exactly one of them.
        os.environ["HUJJAT_WEB_ARCHIVE"] = str(root.resolve())
        os.environ["HUJJAT_WEB_JOBS"] = "1" if jobs else "0"
        if balanced_sockets_supported():  # a socket per process: connections spread over them
            serve_processes(host, port, workers, options)
            return
        uvicorn.run("hujjat.entrypoints.web.app:app_from_env", factory=True, workers=workers, **options)  # type: ignore[arg-type]
        return
    uvicorn.run(create_app(root, run_jobs=jobs), **options)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
        jobs: Annotated[bool, typer.Option("--jobs/--no-jobs", help="Run the upload job consumer in-process.")] = True,
        behind_proxy: Annotated[bool, typer.Option("--behind-proxy",
                                                   help="Trust X-Forwarded-* (TLS ends at a reverse proxy).")] = False,
        workers: Annotated[int, typer.Option(help="Server processes (SQLite: keep it small).", min=1, max=64)] = 1,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
    ) -> None:
        """Serve the web application and the REST API (/api/v1) for an archive."""
        serve_archive(archive, host, port, jobs, behind_proxy, workers)
