"""The custody log: an append-only hash chain of every action, with signed checkpoints.

Each entry's body is canonical JSON with the keys `seq`, `prev`, `time`, `actor`, `action`,
`subject` and `details`; its hash is the SHA-256 of those bytes, and the next entry's `prev` is that
hash, so changing, removing, reordering or inserting an entry breaks the chain. A checkpoint signs
`{"archive": ..., "seq": ..., "head": ..., "time": ...}` with the archive's Ed25519 key, which fixes
the chain's length and head at that moment.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hujjat.domain.canonical import canonical_bytes, sha256_hex

GENESIS_PREV = "0" * 64
_BODY_KEYS = {"seq", "prev", "time", "actor", "action", "subject", "details"}


def utc_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a `Z`: one spelling per instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class CustodyEntry:
    seq: int
    prev: str
    time: str
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "prev": self.prev,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": self.details,
        }

    def encode(self) -> bytes:
        return canonical_bytes(self.body())

    @property
    def hash(self) -> str:
        return sha256_hex(self.encode())

    @classmethod
    def decode(cls, raw: bytes | str) -> CustodyEntry:
        data = json.loads(raw)
        if not isinstance(data, dict) or set(data) != _BODY_KEYS:
            raise ValueError("custody entry body has unexpected keys")
        return cls(
            seq=data["seq"],
            prev=data["prev"],
            time=data["time"],
            actor=data["actor"],
            action=data["action"],
            subject=data["subject"],
            details=data["details"],
        )


def next_entry(
    head: tuple[int, str] | None,
    *,
    moment: datetime,
    actor: str,
    action: str,
    subject: str | None,
    details: dict[str, Any] | None = None,
) -> CustodyEntry:
    """The entry that follows `head` (its seq and hash), or the genesis entry when head is None."""
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_PREV)
    return CustodyEntry(seq, prev, utc_timestamp(moment), actor, action, subject, dict(details or {}))


@dataclass(frozen=True)
class Checkpoint:
    archive: str
    seq: int
    head: str
    time: str

    def message(self) -> bytes:
        return canonical_bytes(
            {"archive": self.archive, "seq": self.seq, "head": self.head, "time": self.time}
        )


@dataclass(frozen=True)
class StoredEntry:
    """An entry as read back from storage: the row's seq and hash columns and its body bytes."""

    seq: int
    hash: str
    body: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    checkpoint: Checkpoint
    signature: bytes


@dataclass
class ChainReport:
    entries: int = 0
    head: tuple[int, str] | None = None
    problems: list[str] = field(default_factory=list)
    checkpoints: int = 0
    unsigned_tail: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    entries: Iterable[StoredEntry],
    checkpoints: Iterable[StoredCheckpoint],
    verify_signature: Callable[[bytes, bytes], bool],
    archive_id: str,
    on_entry: Callable[[dict[str, Any]], None] | None = None,
) -> ChainReport:
    """Walk the chain in seq order and check every link, hash and checkpoint signature.

    `on_entry` sees each decoded body (a dict with the entry's keys), so callers can cross-check
    records against the log.
    """
    report = ChainReport()
    checkpoint_list = list(checkpoints)
    wanted = {cp.checkpoint.seq for cp in checkpoint_list}
    hashes: dict[int, str] = {}
    expected_prev = GENESIS_PREV
    expected_seq = 1
    for stored in entries:
        report.entries += 1
        try:
            data = json.loads(stored.body)
            if not isinstance(data, dict) or data.keys() != _BODY_KEYS:
                raise ValueError("unexpected keys")
            seq, prev = data["seq"], data["prev"]
        except (ValueError, TypeError) as exc:
            report.problems.append(f"custody entry {stored.seq}: unreadable body ({exc})")
            expected_seq = stored.seq + 1
            expected_prev = stored.hash
            continue
        # The hash covers the stored bytes exactly, so re-encoding to check canonical form is not
        # needed for integrity (and would double the cost on large logs).
        actual_hash = sha256_hex(stored.body)
        if actual_hash != stored.hash:
            report.problems.append(f"custody entry {stored.seq}: content changed (hash mismatch)")
        if seq != stored.seq:
            report.problems.append(f"custody entry {stored.seq}: body says seq {seq} (moved)")
        if stored.seq != expected_seq:
            report.problems.append(
                f"custody entry {stored.seq}: expected seq {expected_seq} (entries deleted or inserted)"
            )
        if prev != expected_prev:
            report.problems.append(
                f"custody entry {stored.seq}: does not link to the previous entry "
                "(entries changed, deleted, reordered or inserted)"
            )
        if stored.seq in wanted:
            hashes[stored.seq] = actual_hash
        expected_prev = actual_hash
        expected_seq = stored.seq + 1
        report.head = (stored.seq, actual_hash)
        if on_entry is not None:
            on_entry(data)
    last_signed = 0
    for stored_cp in checkpoint_list:
        report.checkpoints += 1
        cp = stored_cp.checkpoint
        if cp.archive != archive_id:
            report.problems.append(f"checkpoint at seq {cp.seq}: belongs to another archive")
        if not verify_signature(cp.message(), stored_cp.signature):
            report.problems.append(f"checkpoint at seq {cp.seq}: bad signature")
            continue
        known = hashes.get(cp.seq)
        if known is None:
            report.problems.append(f"checkpoint at seq {cp.seq}: the log has no such entry (log truncated)")
        elif known != cp.head:
            report.problems.append(f"checkpoint at seq {cp.seq}: signed head differs from the log")
        last_signed = max(last_signed, cp.seq)
    if report.head is not None:
        report.unsigned_tail = report.head[0] - last_signed
    return report
