"""CLI for packages and trusted timestamps: `export bag`, `import bag`, `verify-package`, `timestamp`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from hujjat.bootstrap import Archive
from hujjat.domain.errors import HujjatError, UsageError
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
from hujjat.entrypoints.cli.exports import export_app
from hujjat.entrypoints.cli.imports import import_app
from hujjat.export.bag import TAGMANIFEST, TOKEN, TOKEN_CHAIN, write_bag
from hujjat.services.packages import audit_timestamps, latest_checkpoint, record_timestamp

if TYPE_CHECKING:
    from hujjat.export.package_verify import PackageReport

KeyOpt = Annotated[
    Path | None,
    typer.Option("--key", help="Pinned Ed25519 public key (PEM) the package must be signed with."),
]
RootsOpt = Annotated[
    Path | None, typer.Option("--tsa-roots", help="PEM file of trusted TSA root certificates (pins the TSA).")
]


def _read(path: Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def _roots(path: Path | None) -> list[Any] | None:
    from hujjat.export.timestamps import load_certificates  # asn1crypto: loaded only when needed

    raw = _read(path, "TSA root file")
    return None if raw is None else load_certificates(raw)


def _print_report(report: PackageReport) -> None:
    for warning in report.warnings:
        err.print(f"warning: {escape(warning)}")
    for problem in report.problems:
        err.print(f"PROBLEM: {escape(problem)}")
    verdict = "VALID" if report.ok else f"INVALID ({len(report.problems)} problems)"
    kind = "Hujjat package" if report.hujjat else "bag"
    out.print(
        f"{escape(report.path)}: {verdict}: {kind}, {report.bag.payload_files} payload files, "
        f"{len(report.custody)} custody entries"
        + (f", signed by key {report.key_id}" if report.key_id else "")
    )


@contextmanager
def _bytes_progress(label: str, quiet: bool) -> Iterator[Callable[[int], None] | None]:
    """A byte counter on stderr (none with --json)."""
    if quiet:
        yield None
        return
    with Progress(
        TextColumn(label), DownloadColumn(), TransferSpeedColumn(), console=err, transient=True
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.advance(task, n)


def _timestamp_config(arch: Archive, tsa: str | None, roots: Path | None) -> tuple[str, list[Any]]:
    section = arch.config.extra.get("timestamp") or {}
    url = tsa or section.get("tsa_url")
    if not url:
        raise UsageError("no TSA: pass --tsa URL or set [timestamp] tsa_url in hujjat.toml")
    roots_path = roots or (arch.config.root / section["roots"] if section.get("roots") else None)
    trusted = _roots(roots_path)
    if not trusted:
        raise UsageError(
            'no trusted TSA root: pass --tsa-roots PEM or set [timestamp] roots = "FILE.pem" in hujjat.toml'
        )
    return str(url), trusted


def register(app: typer.Typer) -> None:
    @export_app.command("bag")
    def export_bag(
        out_dir: Annotated[Path, typer.Argument(help="New (or empty) folder for the package.")],
        incident: Annotated[
            list[str] | None, typer.Option("--incident", help="Incident to include (repeat).")
        ] = None,
        item: Annotated[
            list[str] | None, typer.Option("--item", help="Evidence item id or sha256 (repeat).")
        ] = None,
        organization: Annotated[
            str | None, typer.Option("--organization", help="Source-Organization.")
        ] = None,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Write a signed BagIt package of evidence, incidents and their custody history."""
        with archive_session(archive, actor) as arch:
            section = arch.config.extra.get("package") or {}
            with _bytes_progress("export", json_out) as on_bytes:
                result = write_bag(
                    arch.ports,
                    out_dir,
                    items=item or [],
                    incidents=incident or [],
                    organization=organization or section.get("organization"),
                    on_bytes=on_bytes,
                )
        if json_out:
            print_json(result.__dict__)
        else:
            out.print(
                f"package {result.external_identifier}: {result.items} items, {result.incidents} incidents, "
                f"{result.custody_entries} custody entries -> {escape(result.path)}"
            )

    @app.command("verify-package")
    def verify_package_cmd(
        path: Annotated[Path, typer.Argument(help="The package folder.")],
        bagit_only: Annotated[bool, typer.Option("--bagit-only", help="Check BagIt rules only.")] = False,
        key: KeyOpt = None,
        tsa_roots: RootsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Check a package offline: BagIt, hashes, custody excerpt, signature, timestamp."""
        from hujjat.export.package_verify import verify_package  # asn1crypto: only for this command

        report = verify_package(
            path, bagit_only=bagit_only, pinned_key=_read(key, "key file"), tsa_roots=_roots(tsa_roots)
        )
        if json_out:
            print_json(report.as_json())
        else:
            _print_report(report)
        if not report.ok:
            raise typer.Exit(1)

    @import_app.command("bag")
    def import_bag_cmd(
        path: Annotated[Path, typer.Argument(help="The package folder.")],
        force: Annotated[
            bool, typer.Option("--force", help="Import even if verification fails (recorded).")
        ] = False,
        key: KeyOpt = None,
        tsa_roots: RootsOpt = None,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Import a package from another archive, keeping its custody excerpt and signature."""
        from hujjat.export.bag_import import import_bag  # loaded only for this command

        with archive_session(archive, actor) as arch, _bytes_progress("import", json_out) as on_bytes:
            result = import_bag(
                arch.ports,
                path,
                force=force,
                pinned_key=_read(key, "key file"),
                tsa_roots=_roots(tsa_roots),
                on_bytes=on_bytes,
            )
        if json_out:
            print_json({k: v for k, v in result.__dict__.items() if k != "report"} | {"ok": result.report.ok})
            return
        for problem in result.report.problems:
            err.print(f"FORCED past: {escape(problem)}")
        state = "already imported" if result.already_imported else f"{result.new_items} new items"
        out.print(
            f"package {escape(result.external_identifier)} -> {result.package_id}: "
            f"{result.items} files, {state}" + (" (forced)" if result.forced else "")
        )

    @app.command("timestamp")
    def timestamp_cmd(
        tsa: Annotated[
            str | None, typer.Option("--tsa", help="TSA URL (default: [timestamp] tsa_url).")
        ] = None,
        package: Annotated[
            Path | None, typer.Option("--package", help="Time-stamp this package's tag manifest.")
        ] = None,
        check: Annotated[
            bool, typer.Option("--check", help="Only re-verify the stored tokens, offline.")
        ] = False,
        tsa_roots: RootsOpt = None,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Get an RFC 3161 trusted timestamp for the custody checkpoint or a package."""
        from hujjat.export.timestamps import request_token, stored_token_check  # asn1crypto

        with archive_session(archive, actor) as arch:
            if check:
                audit = audit_timestamps(arch.ports, stored_token_check(_roots(tsa_roots)))
                if json_out:
                    print_json(
                        {"checked": audit.checked, "problems": audit.problems, "ok": not audit.problems}
                    )
                else:
                    for problem in audit.problems:
                        err.print(f"PROBLEM: {escape(problem)}")
                    out.print(f"timestamps: {audit.checked} checked, {len(audit.problems)} problems")
                if audit.problems:
                    raise typer.Exit(1)
                return
            url, trusted = _timestamp_config(arch, tsa, tsa_roots)
            if package is not None:
                message = _read(package / TAGMANIFEST, "tag manifest")
                assert message is not None
                kind, subject = "package", hashlib.sha256(message).hexdigest()
            else:
                checkpoint = latest_checkpoint(arch.ports)
                if checkpoint is None:
                    raise HujjatError("the custody log is empty: nothing to time-stamp")
                message, kind, subject = (
                    checkpoint.checkpoint.message(),
                    "checkpoint",
                    str(checkpoint.checkpoint.seq),
                )
            issued = request_token(url, message, trusted_roots=trusted)
            if package is not None:
                (package / TOKEN).write_bytes(issued.token)
                (package / TOKEN_CHAIN).write_bytes(issued.chain_pem)
            record = record_timestamp(
                arch.ports,
                subject_kind=kind,
                subject=subject,
                message=message,
                tsa_url=url,
                token=issued.token,
                chain_pem=issued.chain_pem,
                gen_time=issued.gen_time,
                tsa=issued.tsa,
            )
        if json_out:
            print_json(
                {
                    "id": record.id,
                    "subject_kind": kind,
                    "subject": subject,
                    "gen_time": issued.gen_time,
                    "tsa": issued.tsa,
                    "tsa_url": url,
                }
            )
        else:
            out.print(f"time-stamped {kind} {subject} at {issued.gen_time} by {escape(issued.tsa or url)}")
