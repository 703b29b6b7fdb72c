"""`import bag`: take in a package from another Hujjat archive (exchange between organisations).

It lives beside the package writer and verifier because it is the same format read the other way.
The package is verified first and refused if anything fails, unless `--force`, which is recorded
in the custody entry together with the problems that were overridden. Nothing is stored before
that decision, so a refused package changes nothing. Payload files go into the store like any
other evidence (source kind "bag", source = the package's External-Identifier); the foreign
custody excerpt, public key and signature are kept verbatim so the chain can be re-checked later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from hujjat.domain.errors import HujjatError, IntegrityError
from hujjat.domain.ids import new_id
from hujjat.domain.packages import ImportedEntry, ImportedPackage
from hujjat.export.package_verify import PackageReport, verify_package
from hujjat.services.context import ArchivePorts
from hujjat.services.intake import IntakeRequest, record_blob
from hujjat.services.packages import find_import, record_import


class PackageRefused(HujjatError):
    """The package failed verification and --force was not given."""


@dataclass(frozen=True)
class ImportResult:
    package_id: str
    external_identifier: str
    items: int
    new_items: int
    already_imported: bool
    forced: bool
    report: PackageReport


class _Counting:
    def __init__(self, handle: Any, on_bytes: Callable[[int], None] | None) -> None:
        self.handle, self.on_bytes = handle, on_bytes
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self.handle.read(size)
        self.digest.update(chunk)
        if self.on_bytes and chunk:
            self.on_bytes(len(chunk))
        return chunk


def _payload_entries(report: PackageReport) -> list[tuple[str, str, str | None]]:
    """(path, sha256, original name) for each payload file: from package.json when it is a
    Hujjat package, else from the payload manifest (a forced import of a plain bag)."""
    if report.items:
        result: list[tuple[str, str, str | None]] = []
        for item in report.items:
            names = [a.get("original_name") for a in item.get("acquisitions") or [] if isinstance(a, dict)]
            name = next((n for n in names if isinstance(n, str)), None)
            result.append((str(item["path"]), str(item.get("sha256")), name or Path(str(item["path"])).name))
        return result
    return [(path, d.get("sha256", ""), Path(path).name) for path, d in sorted(report.bag.payload.items())]


def import_bag(
    ports: ArchivePorts,
    path: Path,
    *,
    force: bool = False,
    pinned_key: bytes | None = None,
    tsa_roots: list[x509.Certificate] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> ImportResult:
    report = verify_package(path, pinned_key=pinned_key, tsa_roots=tsa_roots)
    if not report.ok and not force:
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise PackageRefused(
            f"package refused, nothing imported: {report.problems[0]}{more}; "
            "see `hujjat verify-package`, or import anyway with --force (recorded in custody)"
        )
    if report.tagmanifest_sha256:
        known = find_import(ports, report.tagmanifest_sha256)
        if known is not None:
            return ImportResult(
                known.id, known.external_identifier, len(known.items), 0, True, known.forced, report
            )
    external = report.external_identifier or f"bag:{path.name}"
    package_id = new_id()
    request = IntakeRequest(source_kind="bag", source=external, note=f"imported package {package_id}")
    links: list[tuple[str, str]] = []
    new_items = 0
    for rel, expected, name in _payload_entries(report):
        source = path / rel
        if not source.is_file():
            if force:
                continue
            raise IntegrityError(f"{rel} vanished during the import")
        with source.open("rb") as handle:
            reader = _Counting(handle, on_bytes)
            blob = ports.store.put(reader)  # type: ignore[arg-type]
        if expected and blob.sha256 != expected and not force:
            raise IntegrityError(f"{rel} changed during the import (now {blob.sha256})")
        outcome = record_blob(ports, blob, request, path=rel, name=name, mtime=None)
        new_items += outcome.status == "added"
        if outcome.item_id:
            links.append((outcome.item_id, rel))
    package = ImportedPackage(
        id=package_id,
        external_identifier=external,
        source_archive=report.archive_id or "",
        key_id=report.key_id or "",
        public_key_pem=report.public_key_pem,
        tagmanifest_sha256=report.tagmanifest_sha256 or "",
        signature=report.signature,
        verified=report.ok,
        forced=force and not report.ok,
        problems=list(report.problems),
        bag_info=[[k, v] for k, v in report.bag.info],
        imported_at=ports.clock.now(),
        actor=ports.actor,
        entries=[ImportedEntry(seq, digest, body) for seq, digest, body in report.custody],
        items=links,
    )
    record_import(ports, package)
    return ImportResult(package_id, external, len(links), new_items, False, package.forced, report)
