"""`hujjat serve`: the web application and REST API on uvicorn, with the upload job consumer
running in the same process (huey threads) unless --no-jobs is given."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hujjat.entrypoints.cli.common import DEFAULT_ARCHIVE, ArchiveOpt, err


def serve_archive(root: Path, host: str = "127.0.0.1", port: int = 8000, jobs: bool = True,
                  proxy: bool = False) -> None:
    import uvicorn

    from hujjat.entrypoints.web.app import create_app

    app = create_app(root, run_jobs=jobs)
    err.print(f"serving {escape(str(root))} on http://{escape(host)}:{port}/  (Ctrl+C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=proxy,
                forwarded_allow_ips="*" if proxy else None, server_header=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
        jobs: Annotated[bool, typer.Option("--jobs/--no-jobs", help="Run the upload job consumer in-process.")] = True,
        behind_proxy: Annotated[bool, typer.Option("--behind-proxy",
                                                   help="Trust X-Forwarded-* (TLS ends at a reverse proxy).")] = False,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
    ) -> None:
        """Serve the web application and the REST API (/api/v1) for an archive."""
        serve_archive(archive, host, port, jobs, behind_proxy)
