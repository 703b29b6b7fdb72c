"""The custody chain in isolation: canonical encoding, linking, and every kind of tampering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hujjat.domain.canonical import NonCanonicalValue, canonical_bytes, sha256_hex
from hujjat.domain.custody import (
    GENESIS_PREV,
    Checkpoint,
    CustodyEntry,
    StoredCheckpoint,
    StoredEntry,
    next_entry,
    verify_chain,
)

KEY = Ed25519PrivateKey.generate()
PUB = KEY.public_key()


def _verify_sig(message: bytes, signature: bytes) -> bool:
    try:
        PUB.verify(signature, message)
    except Exception:  # noqa: BLE001
        return False
    return True


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def build(n: int, details: list[dict[str, object]] | None = None) -> list[StoredEntry]:
    head: tuple[int, str] | None = None
    start = datetime(2026, 1, 1, tzinfo=UTC)
    stored = []
    for i in range(n):
        entry = next_entry(
            head,
            moment=start + timedelta(seconds=i),
            actor="monitor-1",
            action="item.added",
            subject=f"item{i}",
            details=(details[i] if details else {"i": i}),
        )
        body = entry.encode()
        stored.append(StoredEntry(entry.seq, sha256_hex(body), body))
        head = (entry.seq, entry.hash)
    return stored


def sign(stored: list[StoredEntry]) -> list[StoredCheckpoint]:
    last = stored[-1]
    cp = Checkpoint("archive-1", last.seq, last.hash, "2026-01-02T00:00:00.000000Z")
    return [StoredCheckpoint(cp, KEY.sign(cp.message()))]


def check(stored: list[StoredEntry], cps: list[StoredCheckpoint]) -> list[str]:
    return verify_chain(stored, cps, _verify_sig, "archive-1").problems


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_bytes({"b": 1, "a": "ё"}) == '{"a":"ё","b":1}'.encode()


def test_canonical_json_refuses_floats() -> None:
    with pytest.raises(NonCanonicalValue):
        canonical_bytes({"lat": 55.75})


def test_genesis_links_to_zero_hash() -> None:
    first = CustodyEntry.decode(build(1)[0].body)
    assert first.prev == GENESIS_PREV and first.seq == 1


@given(st.lists(json_values.map(lambda v: {"v": v}), min_size=1, max_size=8))
@settings(max_examples=60, deadline=None)
def test_any_untampered_chain_verifies(details: list[dict[str, object]]) -> None:
    stored = build(len(details), details)
    assert check(stored, sign(stored)) == []


TAMPERS = ["edit", "edit_rehash", "delete", "swap", "insert", "truncate", "bad_signature", "reseq"]


@given(st.sampled_from(TAMPERS), st.integers(min_value=3, max_value=12), st.data())
@settings(max_examples=150, deadline=None)
def test_every_tampering_is_detected(kind: str, n: int, data: st.DataObject) -> None:
    stored = build(n)
    cps = sign(stored)
    i = data.draw(st.integers(min_value=0, max_value=n - 2))
    if kind == "edit":
        body = stored[i].body.replace(b"monitor-1", b"monitor-2")
        stored[i] = StoredEntry(stored[i].seq, stored[i].hash, body)
    elif kind == "edit_rehash":
        body = stored[i].body.replace(b"monitor-1", b"monitor-2")
        stored[i] = StoredEntry(stored[i].seq, sha256_hex(body), body)
    elif kind == "delete":
        del stored[i]
    elif kind == "swap":
        stored[i], stored[i + 1] = stored[i + 1], stored[i]
    elif kind == "insert":
        forged = CustodyEntry(
            stored[i].seq + 1, stored[i].hash, "2026-01-01T00:00:00.000000Z", "x", "y", None, {}
        )
        body = forged.encode()
        stored.insert(i + 1, StoredEntry(forged.seq, sha256_hex(body), body))
    elif kind == "truncate":
        stored = stored[: i + 1]
    elif kind == "bad_signature":
        cp = cps[0]
        cps = [StoredCheckpoint(cp.checkpoint, bytes([cp.signature[0] ^ 1]) + cp.signature[1:])]
    elif kind == "reseq":
        stored = [StoredEntry(s.seq + 1 if j >= i else s.seq, s.hash, s.body) for j, s in enumerate(stored)]
    assert check(stored, cps), f"{kind} at {i} went unnoticed"


def test_checkpoint_of_another_archive_is_reported() -> None:
    stored = build(3)
    cp = Checkpoint("other", 3, stored[-1].hash, "t")
    problems = check(stored, [StoredCheckpoint(cp, KEY.sign(cp.message()))])
    assert any("another archive" in p for p in problems)
