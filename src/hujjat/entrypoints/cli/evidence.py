"""CLI commands for the archive and its evidence: init, add, list, show, export-file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from hujjat.bootstrap import init_archive
from hujjat.domain.errors import UsageError
from hujjat.entrypoints.cli.capture import print_capture, print_capture_list
from hujjat.entrypoints.cli.common import (
    DEFAULT_ARCHIVE,
    ArchiveOpt,
    AsOpt,
    JsonOpt,
    archive_session,
    err,
    human_size,
    out,
    print_json,
)
from hujjat.entrypoints.cli.post_views import print_post, print_post_list
from hujjat.entrypoints.cli.protection import KeyFileOpt, new_secret
from hujjat.entrypoints.cli.users import announce_admin, first_admin
from hujjat.services.intake import IntakeOutcome, IntakeRequest, IntakeSummary, ingest_paths


class RichIntakeObserver:
    """A files bar and a bytes bar (with rate), fed from the worker threads."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.files = progress.add_task("files", total=0, kind="files")
        self.bytes = progress.add_task("bytes", total=0, kind="bytes")

    def planned(self, files: int, total_bytes: int) -> None:
        self.progress.update(self.files, total=files)
        self.progress.update(self.bytes, total=total_bytes)

    def advance(self, nbytes: int) -> None:
        self.progress.advance(self.bytes, nbytes)

    def finished(self, outcome: IntakeOutcome) -> None:
        if outcome.status in ("failed", "skipped"):
            self.progress.console.print(
                f"[yellow]{outcome.status}:[/yellow] {escape(outcome.path)}: {escape(outcome.message or '')}"
            )
        else:
            self.progress.advance(self.files, 1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:>6}"),
        BarColumn(),
        MofNCompleteColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def summary_json(summary: IntakeSummary) -> dict[str, Any]:
    return {
        "added": summary.count("added"),
        "already_present": summary.count("present"),
        "failed": summary.count("failed") + summary.count("skipped"),
        "outcomes": [o.__dict__ for o in summary.outcomes],
    }


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        directory: Annotated[Path, typer.Argument(help="Folder to create the archive in.")],
        database: Annotated[
            str | None,
            typer.Option(help="Database URL (default: SQLite in the folder), e.g. postgresql://host/db."),
        ] = None,
        store: Annotated[
            str | None, typer.Option(help="Blob store: a folder (default: store) or s3://bucket/prefix.")
        ] = None,
        s3_endpoint: Annotated[str | None, typer.Option(help="S3-compatible endpoint URL.")] = None,
        s3_region: Annotated[str | None, typer.Option(help="S3 region.")] = None,
        encrypt: Annotated[
            bool, typer.Option("--encrypt", help="Encrypt blobs and the database (docs/protection.md).")
        ] = False,
        key_file: KeyFileOpt = None,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Create an archive: config, database, blob store and signing key."""
        archive = init_archive(
            directory,
            encrypt=new_secret(key_file) if encrypt else None,
            database=database,
            store=store,
            s3_endpoint=s3_endpoint,
            s3_region=s3_region,
            actor=actor,
        )
        info: dict[str, Any] = {
            "archive": str(archive.config.root),
            "archive_id": archive.config.archive_id,
            "key_id": archive.ports.signer.key_id,
            "database": archive.config.database,
            "store": archive.config.store,
            "encrypted": encrypt,
        }
        admin = first_admin(archive)
        archive.close()
        if json_out:
            print_json({**info, "first_admin": admin})
        else:
            out.print(
                f"Created archive {info['archive_id']} in {escape(info['archive'])} (signing key {info['key_id']})"
            )
            announce_admin(admin)

    @app.command()
    def add(
        paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive).")],
        source: Annotated[str | None, typer.Option(help="Where the material came from.")] = None,
        note: Annotated[str | None, typer.Option(help="A note kept with this acquisition.")] = None,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Ingest files and folders into the archive."""
        with archive_session(archive, actor) as arch:
            request = IntakeRequest(source_kind="file", source=source, note=note)
            if json_out:
                summary = ingest_paths(arch.ports, paths, request)
            else:
                with _progress() as progress:
                    summary = ingest_paths(arch.ports, paths, request, RichIntakeObserver(progress))
        if json_out:
            print_json(summary_json(summary))
        else:
            added = [o for o in summary.outcomes if o.status == "added"]
            out.print(
                f"added {len(added)} ({human_size(sum(o.size for o in added))}), "
                f"already present {summary.count('present')}, "
                f"failed {summary.count('failed') + summary.count('skipped')}"
            )
            for o in summary.outcomes:
                if o.status in ("failed", "skipped"):
                    err.print(f"{o.status}: {escape(o.path)}: {escape(o.message or '')}")
        if not summary.ok:
            raise typer.Exit(1)

    @app.command("list")
    def list_items(
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        json_out: JsonOpt = False,
        kind: Annotated[str, typer.Option("--kind", help="What to list: item, post or capture.")] = "item",
    ) -> None:
        """List every evidence item (no paging), or the records of another kind."""
        from hujjat.services.capture import list_captures  # the query services: not imported by `add`
        from hujjat.services.post_queries import iter_post_summaries
        from hujjat.services.queries import iter_item_summaries

        if kind == "capture":
            with archive_session(archive, sign=False) as arch:
                print_capture_list(list_captures(arch.ports), json_out)
            return
        if kind == "post":
            with archive_session(archive, sign=False) as arch:
                print_post_list(list(iter_post_summaries(arch.ports)), json_out)
            return
        if kind != "item":
            raise UsageError(f"unknown kind {kind!r}: use item, post or capture")
        with archive_session(archive, sign=False) as arch:
            rows = list(iter_item_summaries(arch.ports))
        if json_out:
            print_json({"items": rows, "total": len(rows)})
            return
        for row in rows:
            out.print(
                f"{row['id']}  {row['sha256'][:16]}  {human_size(row['size']):>10}  {row['media_type']}"
            )
        out.print(f"{len(rows)} items")

    @app.command()
    def show(
        reference: Annotated[str, typer.Argument(metavar="ID", help="Item id, SHA-256, or a unique prefix.")],
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        json_out: JsonOpt = False,
    ) -> None:
        """Show one item (hashes, metadata, acquisitions, custody trail) or one capture."""
        from hujjat.services.capture import find_capture
        from hujjat.services.post_queries import find_post
        from hujjat.services.queries import item_detail

        with archive_session(archive, sign=False) as arch:
            found_capture = find_capture(arch.ports, reference)
            found_post = find_post(arch.ports, reference) if found_capture is None else None
            if found_capture is None and found_post is None:
                detail = item_detail(arch.ports, reference)
        if found_post is not None:
            print_post(found_post, json_out)
            return
        if found_capture is not None:
            print_capture(found_capture, json_out)
            return
        if json_out:
            print_json(detail)
            return
        meta = detail["metadata"]
        out.print(f"[bold]{detail['id']}[/bold]  {detail['media_type']}  {human_size(detail['size'])}")
        out.print(f"sha256 {detail['sha256']}")
        loc = meta.get("location")
        out.print(
            f"metadata: {meta.get('status')}" + (f" — {escape(meta['error'])}" if meta.get("error") else "")
        )
        if meta.get("captured_at"):
            out.print(f"  captured {meta['captured_at']}")
        if loc:
            out.print(f"  location {loc['latitude']:.6f}, {loc['longitude']:.6f}")
        out.print("acquisitions:")
        for acq in detail["acquisitions"]:
            where = acq["path"] or acq["source"] or ""
            out.print(
                f"  {acq['acquired_at']}  {escape(acq['actor'])}  {acq['source_kind']}  {escape(where)}"
            )
        if dup := detail.get("near_duplicates"):  # near-duplicate media (services/dedup_clusters.py)
            out.print(
                f"seen before: {dup['copies']} near-duplicate(s) in {dup['sources']} source(s), "
                f"first on {dup['first_seen']} ({dup['first_item']})"
            )
        out.print("custody:")
        for entry in detail["custody"]:
            out.print(f"  #{entry['seq']} {entry['time']} {escape(entry['actor'])} {entry['action']}")

    @app.command("export-file")
    def export_file(
        reference: Annotated[str, typer.Argument(metavar="ID")],
        dest: Annotated[Path, typer.Argument(help="Destination file, or a folder.")],
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Write an item's original bytes to DEST, verified against its hash on the way out."""
        from hujjat.services.queries import export_item

        with archive_session(archive, actor) as arch:
            result = export_item(arch.ports, reference, dest)
        if json_out:
            print_json(result)
        else:
            out.print(f"exported {result['id']} to {escape(result['destination'])} (sha256 verified)")
