"""CLI: `hujjat capture URL` preserves a web page (WARC/WACZ, screenshot, PDF, images, media)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

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

if TYPE_CHECKING:  # the capture service is imported by the commands that use it
    from hujjat.services.capture import CaptureResult


def _report(result: CaptureResult) -> dict[str, Any]:
    from hujjat.services.capture import capture_view

    return capture_view(result.capture, result.artefacts)


def register(app: typer.Typer) -> None:
    @app.command()
    def capture(
        url: Annotated[str, typer.Argument(help="The http(s) URL to preserve.")],
        note: Annotated[
            str | None, typer.Option(help="A note kept with the capture and its artefacts.")
        ] = None,
        timeout: Annotated[
            float, typer.Option(help="Seconds to wait for the page (and each media download).", min=0.1)
        ] = 30.0,
        no_media: Annotated[
            bool, typer.Option("--no-media", help="Do not fetch the page's video and audio.")
        ] = False,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Capture a web page now, with headless Chromium: WARC and WACZ, full-page PNG, PDF, the raw
        HTML, the page's images and media; a failed capture is recorded and exits 1."""
        from hujjat.domain.captures import check_url
        from hujjat.intake.capture.browser import ChromiumCapturer
        from hujjat.services.capture import capture_url

        check_url(url)
        with archive_session(archive, actor) as arch:
            if not json_out:
                err.print(f"capturing {escape(url)} …")
            with ChromiumCapturer(fetch_page_media=not no_media) as capturer:
                result = capture_url(arch.ports, capturer, url, note=note, timeout=timeout)
        report = _report(result)
        if json_out:
            report.pop("text", None)
            print_json(report)
        else:
            state = "[green]ok[/green]" if result.ok else "[red]failed[/red]"
            answer = f"HTTP {report['status']}" if report["status"] is not None else "no HTTP response"
            out.print(f"capture {report['id']} {state}  {escape(report['final_url'] or url)}  {answer}")
            if report["error"]:
                out.print(f"  reason: {escape(report['error'])}")
            from hujjat.services.capture import artefact_view

            for artefact in map(artefact_view, result.artefacts):
                out.print(
                    f"  {artefact['role']:<10} {artefact['item_id']}  {human_size(artefact['size']):>10}  "
                    f"{escape(artefact['url'] or '')}"
                )
            for warning in report["warnings"]:
                err.print(f"[yellow]warning:[/yellow] {escape(warning)}")
        if not result.ok:
            raise typer.Exit(1)


def print_capture_list(rows: list[dict[str, Any]], json_out: bool) -> None:
    """`hujjat list --kind capture`."""
    if json_out:
        print_json({"captures": rows, "total": len(rows)})
        return
    for row in rows:
        status = row["status"] if row["status"] is not None else "-"
        out.print(
            f"{row['id']}  {row['started_at'][:19]}  {row['state']:<7} {status!s:>4}  {escape(row['url'])}"
        )
    out.print(f"{len(rows)} captures")


def print_capture(detail: dict[str, Any], json_out: bool) -> None:
    """`hujjat show CAPTURE_ID`."""
    if json_out:
        print_json(detail)
        return
    out.print(f"[bold]capture {detail['id']}[/bold]  {detail['state']}  {escape(detail['url'])}")
    if detail["final_url"] and detail["final_url"] != detail["url"]:
        out.print(f"final URL {escape(detail['final_url'])}")
    answer = "no HTTP response"
    if detail["status"] is not None:
        answer = f"HTTP {detail['status']} {escape(detail['status_text'] or '')}"
    out.print(f"{answer}  started {detail['started_at']}  finished {detail['finished_at']}")
    if detail["error"]:
        out.print(f"reason: {escape(detail['error'])}")
    if detail["title"]:
        out.print(f"title: {escape(detail['title'])}")
    if detail["encoding"]:
        out.print(f"decoded as {detail['encoding']} ({detail['encoding_source']})")
    out.print("headers:")
    for name, value in detail["headers"]:
        out.print(f"  {escape(name)}: {escape(value)}")
    out.print("artefacts:")
    for a in detail["artefacts"]:
        out.print(f"  {a['role']:<10} {a['item_id']}  {human_size(a['size']):>10}  {escape(a['url'] or '')}")
    for warning in detail["warnings"]:
        out.print(f"warning: {escape(warning)}")
    out.print("custody:")
    for entry in detail["custody"]:
        out.print(f"  #{entry['seq']} {entry['time']} {escape(entry['actor'])} {entry['action']}")
