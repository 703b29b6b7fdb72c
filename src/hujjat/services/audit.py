"""`verify`: re-walk the custody chain and its signatures, and check every blob against its record.

Beyond the chain itself, records and log are cross-checked: an item row with no `item.added` entry
was inserted behind Hujjat's back; an entry whose item row is gone means a deletion; an object in
the store that no record names is reported too. Quick mode compares sizes instead of re-hashing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hujjat.domain.custody import verify_chain
from hujjat.domain.errors import HujjatError
from hujjat.ports.protection import EncryptingStore
from hujjat.services.context import ArchivePorts
from hujjat.services.incidents import check_incidents
from hujjat.services.packages import TokenCheck, audit_timestamps

CHUNK = 1024 * 1024


@dataclass
class VerifyReport:
    quick: bool
    items: int = 0
    objects: int = 0
    entries: int = 0
    checkpoints: int = 0
    bytes_hashed: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    shredded: list[str] = field(default_factory=list)
    """Items whose data key was destroyed on purpose (`hujjat shred`): reported, not a problem."""

    @property
    def ok(self) -> bool:
        return not self.problems


def _rehash(ports: ArchivePorts, sha256: str, on_bytes: Callable[[int], None] | None) -> str:
    digest = hashlib.sha256()
    with ports.store.open(sha256) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if on_bytes:
                on_bytes(len(chunk))
    return digest.hexdigest()


def verify_archive(
    ports: ArchivePorts,
    quick: bool = False,
    on_bytes: Callable[[int], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    token_check: TokenCheck | None = None,
) -> VerifyReport:
    """`token_check` (from the export layer) re-verifies stored RFC 3161 tokens offline."""
    report = VerifyReport(quick=quick)
    logged: dict[str, tuple[str, int]] = {}

    shred_logged: set[str] = set()

    def collect(entry: dict[str, Any]) -> None:
        if entry["action"] == "item.shredded" and entry["subject"]:
            shred_logged.add(entry["subject"])
        if entry["action"] == "item.added" and entry["subject"]:
            details = entry["details"]
            logged[entry["subject"]] = (str(details.get("sha256")), int(details.get("size", -1)))

    with ports.uow(read_only=True) as tx:
        chain = verify_chain(
            tx.custody.iter_entries(),
            tx.custody.checkpoints(),
            ports.signer.verify,
            ports.archive_id,
            collect,
        )
        report.entries, report.checkpoints = chain.entries, chain.checkpoints
        report.problems.extend(chain.problems)
        if chain.entries and not chain.checkpoints:
            report.problems.append("the custody log has no signed checkpoint")
        elif chain.unsigned_tail:
            report.problems.append(
                f"{chain.unsigned_tail} custody entries after the last signed checkpoint are covered by no "
                "signature (appended by hand, or written by a command that was killed; any later command "
                "signs the head again)"
            )
        records = list(tx.items.iter_sizes())
    report.items = len(records)

    encrypting = ports.store if isinstance(ports.store, EncryptingStore) else None
    shredded = encrypting.shredded() if encrypting is not None else set()
    objects = dict(ports.store.iter_objects())
    report.objects = len(objects)
    seen_ids = set()
    to_hash: list[tuple[str, str]] = []
    for item_id, sha256, size in records:
        seen_ids.add(item_id)
        in_log = logged.get(item_id)
        if in_log is None:
            report.problems.append(
                f"item {item_id} ({sha256}) has no custody entry: record inserted outside Hujjat"
            )
        elif in_log != (sha256, size):
            report.problems.append(f"item {item_id}: record differs from its custody entry (record changed)")
        stored_size = objects.pop(sha256, None)
        if stored_size is None:
            report.problems.append(f"item {item_id}: blob {sha256} is missing from the store")
        elif stored_size != size:
            report.problems.append(
                f"item {item_id}: blob {sha256} has {stored_size} bytes, the record says {size} (blob changed)"
            )
        elif sha256 in shredded:
            report.shredded.append(item_id)
            if item_id not in shred_logged:
                report.problems.append(f"item {item_id}: its data key was destroyed with no custody entry")
        elif encrypting is not None and quick and (problem := encrypting.check_structure(sha256)):
            report.problems.append(f"item {item_id}: {problem}")
        elif not quick:
            to_hash.append((item_id, sha256))
    for item_id in sorted(shred_logged - set(report.shredded)):
        report.problems.append(
            f"item {item_id} is logged as shredded but its data key still exists (interrupted: shred it again)"
        )
    for item_id in logged.keys() - seen_ids:
        report.problems.append(
            f"item {item_id} is in the custody log but its record is gone (record deleted)"
        )
    for sha256 in sorted(objects):
        report.problems.append(f"blob {sha256} in the store is not mentioned by any record")

    report.problems.extend(check_incidents(ports)["problems"])  # incident rows against versions and log
    if token_check is not None:
        report.problems.extend(audit_timestamps(ports, token_check).problems)
    if to_hash:
        if on_plan:
            on_plan(sum(size for _, _, size in records))

        def check(pair: tuple[str, str]) -> str | None:
            item_id, sha256 = pair
            try:
                actual = _rehash(ports, sha256, on_bytes)
            except OSError as exc:
                return f"item {item_id}: blob {sha256} is unreadable ({exc.strerror or exc})"
            except HujjatError as exc:  # an encrypted object that fails authentication
                return f"item {item_id}: {exc}"
            if actual != sha256:
                return f"item {item_id}: blob {sha256} content changed (now hashes to {actual})"
            return None

        with ThreadPoolExecutor(max_workers=2) as pool:
            report.problems.extend(p for p in pool.map(check, to_hash) if p)
        report.bytes_hashed = sum(size for _, _, size in records)
    return report
