"""The verification state machine: allowed transitions, notes, and the two-person rule (property tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hujjat.domain.incidents import Incident, Place
from hujjat.domain.verification import TRANSITIONS, State, VerificationError, review, state_after_edit

NOW = datetime(2025, 1, 1, tzinfo=UTC)
PEOPLE = ["alice", "bob", "carol", "Alice "]


def incident(state: str = "unverified", creator: str = "alice", editor: str = "alice") -> Incident:
    return Incident(id="01J0000000000000000000000A", title="t", type="raid", start=date(2024, 1, 1),
                    place=Place(text="x"), created_by=creator, created_at=NOW, updated_by=editor,
                    updated_at=NOW, state=state)


def test_normal_path_needs_a_second_person() -> None:
    inc = incident()
    inc, r1 = review(inc, State.CORROBORATED, "two witnesses", "alice", NOW)
    assert inc.state == "corroborated" and r1.from_state is State.UNVERIFIED
    with pytest.raises(VerificationError, match="two-person rule"):
        review(inc, State.VERIFIED, "checked", "ALICE", NOW)
    inc, r2 = review(inc, State.VERIFIED, "checked", "bob", NOW)
    assert inc.state == "verified" and r2.reviewer == "bob"


def test_last_editor_cannot_verify() -> None:
    inc = incident("corroborated", creator="alice", editor="bob")
    with pytest.raises(VerificationError, match="edited this incident last"):
        review(inc, State.VERIFIED, "ok", "bob", NOW)
    assert review(inc, State.VERIFIED, "ok", "carol", NOW)[0].state == "verified"


@pytest.mark.parametrize("note", ["", "   "])
def test_every_transition_needs_a_note(note: str) -> None:
    with pytest.raises(VerificationError, match="note"):
        review(incident(), State.CORROBORATED, note, "bob", NOW)


def test_no_shortcut_to_verified_and_retracted_only_reopens() -> None:
    with pytest.raises(VerificationError, match="cannot go from unverified to verified"):
        review(incident(), State.VERIFIED, "x", "bob", NOW)
    with pytest.raises(VerificationError, match="cannot go from retracted to verified"):
        review(incident("retracted"), State.VERIFIED, "x", "bob", NOW)
    assert review(incident("retracted"), State.UNVERIFIED, "reopen", "bob", NOW)[0].state == "unverified"


def test_editing_a_verified_incident_needs_verifying_again() -> None:
    assert state_after_edit("verified") == "corroborated"
    assert state_after_edit("disputed") == "disputed"


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(st.tuples(st.sampled_from(list(State)), st.sampled_from(PEOPLE), st.text(max_size=5)),
                   max_size=12),
    creator=st.sampled_from(PEOPLE),
    editor=st.sampled_from(PEOPLE),
)
def test_random_reviews_keep_the_invariants(steps: list[tuple[State, str, str]], creator: str, editor: str) -> None:
    inc = incident(creator=creator, editor=editor)
    for target, who, note in steps:
        before = inc
        try:
            inc, record = review(inc, target, note, who, NOW)
        except VerificationError:
            assert inc is before  # a refused review changes nothing
            continue
        assert note.strip(), "accepted a review without a note"
        assert target in TRANSITIONS[record.from_state]
        assert record.from_state.value == before.state and inc.state == target.value
        if target is State.VERIFIED:
            assert who.strip().casefold() not in {creator.strip().casefold(), editor.strip().casefold()}
        assert inc.version == before.version  # reviews do not change the content version
