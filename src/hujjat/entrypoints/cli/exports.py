"""`hujjat export …`: datasets and packages that others can check.

`export acled` / `export incidents` live here; other exporters (e.g. `export bag`) add their
commands to `export_app` (`from hujjat.entrypoints.cli.exports import export_app`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hujjat.entrypoints.cli.common import (
    DEFAULT_ARCHIVE,
    ArchiveOpt,
    AsOpt,
    JsonOpt,
    archive_session,
    out,
    print_json,
)

export_app = typer.Typer(help="Export incident datasets and evidence packages.", no_args_is_help=True)

StateOpt = Annotated[list[str] | None, typer.Option("--state", help="Only these verification states (repeatable).")]
FromOpt = Annotated[str | None, typer.Option("--from", help="Only incidents starting on or after YYYY-MM-DD.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Only incidents starting on or before YYYY-MM-DD.")]
SensOpt = Annotated[
    list[str] | None,
    typer.Option("--sensitivity", help="Only these levels (repeatable; default public and internal: restricted "
                 "incidents leave the archive only when named)."),
]
DEFAULT_SENSITIVITIES = ["public", "internal"]
RefOpt = Annotated[bool, typer.Option("--include-reference", help="Also export reference (imported) incidents.")]


def _export(archive: Path, actor: str | None, target: Path, fmt: str, states: list[str] | None, date_from: str | None,
            date_to: str | None, sensitivity: list[str] | None, include_reference: bool, numeric_inter: bool,
            source: str, json_out: bool) -> None:
    from hujjat.entrypoints.cli.incidents import build_filter, load_archive_taxonomy, optional_places
    from hujjat.services.incident_exports import export_incidents

    query = build_filter(states, date_from, date_to, sensitivity or DEFAULT_SENSITIVITIES, include_reference)
    with archive_session(archive, actor) as arch:
        taxonomy = load_archive_taxonomy(arch.config.root)
        summary = export_incidents(arch.ports, taxonomy, optional_places(), target, query, fmt,
                                   numeric_inter=numeric_inter, source=source)
    if json_out:
        print_json(summary)
    else:
        out.print(f"exported {summary['incidents']} incident(s) as {fmt} to {escape(summary['path'])} "
                  f"(sha256 {summary['sha256'][:16]}…)")


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")

    @export_app.command("acled")
    def export_acled(
        target: Annotated[Path, typer.Argument(metavar="OUT", help="File to write (CSV, or JSON/GeoJSON).")],
        fmt: Annotated[str, typer.Option("--format", help="acled (CSV, ACLED's 31 columns), geojson or json.")] = "acled",
        states: StateOpt = None,
        date_from: FromOpt = None,
        date_to: ToOpt = None,
        sensitivity: SensOpt = None,
        include_reference: RefOpt = False,
        numeric_inter: Annotated[
            bool, typer.Option("--numeric-inter", help="inter1/inter2/interaction as numeric codes (older ACLED).")
        ] = False,
        source: Annotated[str, typer.Option(help="Text for ACLED's `source` column.")] = "Hujjat",
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """One row per incident in ACLED's column layout and order (or --format geojson/json)."""
        _export(archive, actor, target, fmt, states, date_from, date_to, sensitivity, include_reference,
                numeric_inter, source, json_out)

    @export_app.command("incidents")
    def export_incidents_cmd(
        target: Annotated[Path, typer.Argument(metavar="OUT")],
        fmt: Annotated[str, typer.Option("--format", help="json, geojson or acled.")] = "json",
        states: StateOpt = None,
        date_from: FromOpt = None,
        date_to: ToOpt = None,
        sensitivity: SensOpt = None,
        include_reference: RefOpt = False,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Incidents with their links as JSON (default), GeoJSON or ACLED CSV."""
        _export(archive, actor, target, fmt, states, date_from, date_to, sensitivity, include_reference,
                False, "Hujjat", json_out)
