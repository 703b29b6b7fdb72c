"""CLI command `verify`: the archive's integrity, with a progress bar for the re-hash."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from hujjat.entrypoints.cli.common import (
    DEFAULT_ARCHIVE,
    ArchiveOpt,
    JsonOpt,
    archive_session,
    err,
    out,
    print_json,
)
from hujjat.entrypoints.cli.protection import keyless_quick_verify


def register(app: typer.Typer) -> None:
    @app.command()
    def verify(
        quick: Annotated[
            bool, typer.Option("--quick", help="Check sizes and the chain only; no re-hash.")
        ] = False,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        json_out: JsonOpt = False,
    ) -> None:
        """Re-hash every blob and re-walk the custody chain and its signatures."""
        keyless = keyless_quick_verify(archive) if quick else None  # encrypted, no secret given
        if keyless is not None:
            if json_out:
                print_json(keyless)
            else:
                for problem in keyless["problems"]:
                    err.print(f"PROBLEM: {escape(problem)}")
                out.print(f"verify (quick, no key: ciphertext framing only): {'OK' if keyless['ok'] else 'FAILED'}: "
                          f"{keyless['objects']} blobs")
            if not keyless["ok"]:
                raise typer.Exit(1)
            return
        from hujjat.export.timestamps import stored_token_check  # asn1crypto: loaded only to verify
        from hujjat.services.audit import verify_archive

        with archive_session(archive, sign=False) as arch:
            if quick or json_out:
                report = verify_archive(arch.ports, quick=quick, token_check=stored_token_check())
            else:
                with Progress(
                    TextColumn("verify"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=err
                ) as progress:
                    task = progress.add_task("verify", total=None)
                    report = verify_archive(
                        arch.ports,
                        quick=False,
                        on_bytes=lambda n: progress.advance(task, n),
                        on_plan=lambda total: progress.update(task, total=total),
                        token_check=stored_token_check(),
                    )
        if json_out:
            print_json({**report.__dict__, "ok": report.ok})
        else:
            for warning in report.warnings:
                err.print(f"warning: {escape(warning)}")
            for problem in report.problems:
                err.print(f"PROBLEM: {escape(problem)}")
            mode = "quick" if quick else "full"
            verdict = "OK" if report.ok else f"FAILED ({len(report.problems)} problems)"
            if report.shredded:
                out.print(f"shredded (data key destroyed on purpose): {', '.join(report.shredded)}")
            out.print(
                f"verify ({mode}): {verdict}: {report.items} items, {report.objects} blobs, "
                f"{report.entries} custody entries, {report.checkpoints} signed checkpoints"
            )
        if not report.ok:
            raise typer.Exit(1)
