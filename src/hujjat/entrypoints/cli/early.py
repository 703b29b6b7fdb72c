"""What the `hujjat` program starts before importing the CLI (~0.5 s on one core)."""

from __future__ import annotations

from pathlib import Path


def start_early_work(argv: list[str]) -> None:
    """`hujjat add ...`: start the metadata child now (processing.metadata_worker.start_early),
    so that its start-up runs beside the parent's. Only for the program itself (`hujjat`, or
    `python -m hujjat.entrypoints.cli.main`), never for code that imports the CLI in-process."""
    if len(argv) > 1 and argv[1] == "add" and Path(argv[0]).name in ("hujjat", "main.py"):
        from hujjat.processing.metadata_worker import start_early

        start_early()
