"""CLI for near-duplicate media: `fingerprint --all`, `similar ID`, `clusters`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from hujjat.domain.errors import UsageError
from hujjat.entrypoints.cli.common import (
    DEFAULT_ARCHIVE,
    ArchiveOpt,
    AsOpt,
    JsonOpt,
    archive_session,
    err,
    out,
    print_json,
)
from hujjat.services.dedup import fingerprint_all, similar
from hujjat.services.dedup_clusters import SORTS, clusters


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def _print_similar(result: dict[str, Any]) -> None:
    limits = result["thresholds"]
    out.print(
        f"{result['id']} ({result['kind']}): {len(result['results'])} near-duplicate(s) "
        f"(image distance <= {limits['image_distance']}, frame distance <= {limits['frame_distance']})"
    )
    for row in result["results"]:
        line = f"  {row['id']}  {row['sha256'][:16]}  {row['kind']:<5}  distance {row['distance']:>3}"
        line += f"  similarity {row['similarity']:.3f}"
        if row["kind"] != "image":
            line += f"  contained {row['percent']}%"
        out.print(line + f"  {row['media_type']}")
        for frame in row["frames"][:5]:
            out.print(
                f"      frame {frame['query_s']:.1f}s ~ {frame['other_s']:.1f}s (distance {frame['distance']})"
            )


def _print_clusters(result: dict[str, Any]) -> None:
    for cluster in result["clusters"]:
        first = cluster["earliest"]
        out.print(
            f"[bold]cluster {cluster['cluster']}[/bold]: {cluster['size']} copies from {cluster['sources']} "
            f"source(s); first {first['as'] or 'seen'} {first['at']} ({first['id']})"
        )
        for member in cluster["members"]:
            where = ", ".join(
                escape(str(s.get("source") or s.get("path") or s["kind"])) for s in member["sources"][:3]
            )
            out.print(f"  {member['id']}  {member['sha256'][:16]}  {member['first_seen']}  {where}")
    out.print(f"{result['total']} cluster(s), {result['items']} item(s)")


def register(app: typer.Typer) -> None:
    @app.command()
    def fingerprint(
        all_items: Annotated[
            bool, typer.Option("--all", help="Fingerprint every image and video that has no fingerprint yet.")
        ] = False,
        redo: Annotated[
            bool,
            typer.Option(
                "--redo", help="Recompute existing fingerprints too (after changing [dedup] settings)."
            ),
        ] = False,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Compute PDQ/vPDQ fingerprints and match them against the archive (new items get them at intake)."""
        if not all_items:
            raise UsageError(
                "say what to fingerprint: --all (items added from now on are fingerprinted at intake)"
            )
        with archive_session(archive, actor) as arch:
            if json_out:
                report = fingerprint_all(arch.ports, redo=redo)
            else:
                with _progress("fingerprinting") as progress:
                    task = progress.add_task("fingerprint", total=None)
                    report = fingerprint_all(
                        arch.ports,
                        lambda done, total: progress.update(task, completed=done, total=total),
                        redo,
                    )
        data = {"fingerprinted": report.fingerprinted, "matches": report.matches, "problems": report.problems}
        if json_out:
            print_json(data)
            return
        out.print(f"fingerprinted {report.fingerprinted} item(s), {report.matches} new match(es)")
        if report.problems:
            out.print(f"{len(report.problems)} item(s) cannot be matched:")
            for p in report.problems:
                out.print(f"  {p['id']}  {p['media_type']}  {p['status']}: {escape(p['reason'])}")

    @app.command("similar")
    def similar_cmd(
        reference: Annotated[str, typer.Argument(metavar="ID", help="Item id, SHA-256, or a unique prefix.")],
        threshold: Annotated[
            int | None,
            typer.Option(
                help="Max Hamming distance (0-127) for images and frames (default: [dedup] settings)."
            ),
        ] = None,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        json_out: JsonOpt = False,
    ) -> None:
        """List near-duplicates of an image or video, with distances and matching frames."""
        with archive_session(archive, sign=False) as arch:
            result = similar(arch.ports, reference, threshold)
        if json_out:
            print_json(result)
        else:
            _print_similar(result)

    @app.command("clusters")
    def clusters_cmd(
        sort: Annotated[
            str, typer.Option(help=f"Order: {' or '.join(SORTS)} (largest / oldest first).")
        ] = "size",
        rescan: Annotated[
            bool,
            typer.Option(
                help="Search every hash again with the current settings instead of using recorded matches."
            ),
        ] = False,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        json_out: JsonOpt = False,
    ) -> None:
        """Group all media into clusters of copies, with their sources and earliest appearance."""
        with archive_session(archive, sign=False) as arch:
            if json_out:
                result = clusters(arch.ports, sort, rescan=rescan)
            else:
                with _progress("clustering") as progress:
                    task = progress.add_task("cluster", total=None)
                    result = clusters(
                        arch.ports,
                        sort,
                        lambda done, total: progress.update(task, completed=done, total=total),
                        rescan=rescan,
                    )
        if json_out:
            print_json(result)
        else:
            _print_clusters(result)
