"""Use cases around packages and trusted timestamps that touch the archive's records.

The package format itself (writing, checking and reading bags) lives in `hujjat.export`; this
module holds what must happen inside the archive's transactions: collecting what a package will
carry (items, their acquisitions, the custody entries about them, the latest signed checkpoint),
and recording exports, imports and timestamp tokens, each with its custody entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hujjat.domain.custody import CustodyEntry, StoredCheckpoint
from hujjat.domain.errors import NotFound
from hujjat.domain.evidence import Acquisition, EvidenceItem
from hujjat.domain.ids import new_id
from hujjat.domain.packages import ImportedPackage, TimestampRecord
from hujjat.services.checkpoints import sign_checkpoint
from hujjat.services.context import ArchivePorts


@dataclass
class PackageContents:
    items: list[EvidenceItem] = field(default_factory=list)
    acquisitions: dict[str, list[Acquisition]] = field(default_factory=dict)
    incidents: list[dict[str, object]] = field(default_factory=list)
    custody: list[CustodyEntry] = field(default_factory=list)
    checkpoint: StoredCheckpoint | None = None
    key_id: str = ""


def _incident_records(tx: object, references: list[str]) -> tuple[list[dict[str, object]], list[str]]:
    """Incident records (with their evidence links) and the item ids they link to. Looked up
    through `tx.incidents` when this build has the incidents feature. Links to posts and captures
    travel as records; only items are payload."""
    if not references:
        return [], []
    repo: Any = getattr(tx, "incidents", None)
    if repo is None:
        raise NotFound("this archive has no incidents feature; select evidence with --item")
    records: list[dict[str, object]] = []
    item_ids: list[str] = []
    for ref in references:
        incident = repo.resolve(ref)
        links = [link.to_record() for link in repo.links(incident.id)]
        item_ids.extend(str(link["target_id"]) for link in links if link.get("target_kind") == "item")
        records.append({**incident.to_record(), "links": links})
    return records, item_ids


def collect_contents(ports: ArchivePorts, item_refs: list[str], incident_refs: list[str]) -> PackageContents:
    """Resolve the selection and gather everything a package carries, in one read transaction,
    after signing the current custody head so the package's checkpoint covers every entry."""
    sign_checkpoint(ports)
    contents = PackageContents(key_id=ports.signer.key_id)
    with ports.uow(read_only=True) as tx:
        incidents, linked = _incident_records(tx, incident_refs)
        contents.incidents = incidents
        seen: set[str] = set()
        for ref in [*item_refs, *linked]:
            item = tx.items.resolve(ref)
            if item.id not in seen:
                seen.add(item.id)
                contents.items.append(item)
                contents.acquisitions[item.id] = tx.items.acquisitions(item.id)
        subjects = [ports.archive_id, *seen, *(str(i["id"]) for i in incidents)]
        contents.custody = tx.custody.entries_for(subjects)
        checkpoints = tx.custody.checkpoints()
        contents.checkpoint = checkpoints[-1] if checkpoints else None
    return contents


def record_export(ports: ArchivePorts, package_id: str, details: dict[str, object]) -> None:
    with ports.uow() as tx:
        tx.custody.append(ports.actor, "package.exported", package_id, details)


def find_import(ports: ArchivePorts, tagmanifest_sha256: str) -> ImportedPackage | None:
    with ports.uow(read_only=True) as tx:
        return next((p for p in tx.packages.imports() if p.tagmanifest_sha256 == tagmanifest_sha256), None)


def record_import(ports: ArchivePorts, package: ImportedPackage) -> None:
    with ports.uow() as tx:
        tx.packages.add_import(package)
        tx.custody.append(
            ports.actor,
            "package.imported",
            package.id,
            {
                **package.summary(),
                "problems": list(package.problems[:20]),
                "item_ids": [item_id for item_id, _ in package.items],
            },
        )


def latest_checkpoint(ports: ArchivePorts) -> StoredCheckpoint | None:
    sign_checkpoint(ports)
    with ports.uow(read_only=True) as tx:
        checkpoints = tx.custody.checkpoints()
    return checkpoints[-1] if checkpoints else None


def record_timestamp(
    ports: ArchivePorts,
    *,
    subject_kind: str,
    subject: str,
    message: bytes,
    tsa_url: str,
    token: bytes,
    chain_pem: bytes,
    gen_time: str,
    tsa: str | None,
) -> TimestampRecord:
    record = TimestampRecord(
        id=new_id(),
        subject_kind=subject_kind,
        subject=subject,
        message_sha256=hashlib.sha256(message).hexdigest(),
        message=message,
        tsa_url=tsa_url,
        token=token,
        chain_pem=chain_pem,
        gen_time=gen_time,
        tsa=tsa,
        created_at=ports.clock.now(),
    )
    with ports.uow() as tx:
        tx.packages.add_timestamp(record)
        tx.custody.append(
            ports.actor,
            "timestamp.added",
            record.id,
            {
                "subject_kind": subject_kind,
                "subject": subject,
                "message_sha256": record.message_sha256,
                "token_sha256": hashlib.sha256(token).hexdigest(),
                "tsa_url": tsa_url,
                "tsa": tsa,
                "gen_time": gen_time,
            },
        )
    return record


# (token, message, chain_pem) -> None when the token verifies, else the reason it does not.
TokenCheck = Callable[[bytes, bytes, bytes], str | None]


@dataclass
class TimestampAudit:
    checked: int = 0
    problems: list[str] = field(default_factory=list)


def audit_timestamps(ports: ArchivePorts, check: TokenCheck) -> TimestampAudit:
    """Re-check every stored token offline: that it is for the bytes recorded with it, that
    those bytes are still the signed checkpoint they claim to be, and that the token verifies."""
    audit = TimestampAudit()
    with ports.uow(read_only=True) as tx:
        records = tx.packages.timestamps()
        checkpoints = {cp.checkpoint.seq: cp for cp in tx.custody.checkpoints()}
    for record in records:
        audit.checked += 1
        label = f"timestamp {record.id} ({record.subject_kind} {record.subject})"
        if hashlib.sha256(record.message).hexdigest() != record.message_sha256:
            audit.problems.append(f"{label}: the stored message no longer matches its hash")
            continue
        if record.subject_kind == "checkpoint":
            checkpoint = checkpoints.get(int(record.subject)) if record.subject.isdigit() else None
            if checkpoint is None:
                audit.problems.append(f"{label}: the time-stamped checkpoint is gone")
                continue
            if checkpoint.checkpoint.message() != record.message:
                audit.problems.append(f"{label}: the checkpoint differs from what was time-stamped")
                continue
        reason = check(record.token, record.message, record.chain_pem)
        if reason:
            audit.problems.append(f"{label}: {reason}")
    return audit
