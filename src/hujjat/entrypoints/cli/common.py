"""Shared CLI pieces: the --archive/--as options, opening the archive, consoles and JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from hujjat.bootstrap import Archive, open_archive
from hujjat.services.checkpoints import sign_checkpoint

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ArchiveOpt = Annotated[
    Path,
    typer.Option(
        "--archive",
        "-A",
        envvar="HUJJAT_ARCHIVE",
        help="Archive folder (default: $HUJJAT_ARCHIVE, else ./archive).",
        show_default=False,
    ),
]
DEFAULT_ARCHIVE = Path("archive")
AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as", envvar="HUJJAT_USER", help="Who is acting (default: $HUJJAT_USER, else the OS user)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@contextmanager
def archive_session(root: Path, actor: str | None = None, sign: bool = True) -> Iterator[Archive]:
    """Open the archive for one command and sign the custody head when it ends, whatever happened."""
    archive = open_archive(root, actor)
    try:
        yield archive
    finally:
        try:
            if sign:
                sign_checkpoint(archive.ports)
        finally:
            archive.close()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str))
    sys.stdout.write("\n")


def human_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"
