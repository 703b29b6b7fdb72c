"""The verification workflow: which state changes are allowed, and the two-person rule.

unverified -> corroborated -> verified is the normal path; disputed and retracted can be reached
from any open state. Every transition needs a note (why), and "verified" must be set by someone
other than the person who created the incident and the person who last edited it. A retracted
incident can only be reopened (back to unverified), never verified straight away.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from hujjat.domain.errors import HujjatError
from hujjat.domain.incidents import Incident


class VerificationError(HujjatError):
    """A review is not allowed (wrong transition, missing note, two-person rule)."""


class State(StrEnum):
    UNVERIFIED = "unverified"
    CORROBORATED = "corroborated"
    VERIFIED = "verified"
    DISPUTED = "disputed"
    RETRACTED = "retracted"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.UNVERIFIED: frozenset({State.CORROBORATED, State.DISPUTED, State.RETRACTED}),
    State.CORROBORATED: frozenset({State.VERIFIED, State.UNVERIFIED, State.DISPUTED, State.RETRACTED}),
    State.VERIFIED: frozenset({State.DISPUTED, State.RETRACTED, State.CORROBORATED}),
    State.DISPUTED: frozenset({State.UNVERIFIED, State.CORROBORATED, State.VERIFIED, State.RETRACTED}),
    State.RETRACTED: frozenset({State.UNVERIFIED}),
}
# What an edit of the content does to the state: a verified incident whose content changes
# needs verifying again.
AFTER_EDIT = {State.VERIFIED: State.CORROBORATED}


@dataclass(frozen=True)
class Review:
    incident_id: str
    from_state: State
    to_state: State
    note: str
    reviewer: str
    at: datetime


def same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def parse_state(value: str) -> State:
    try:
        return State(value.strip().lower())
    except ValueError:
        raise VerificationError(
            f"unknown verification state {value!r}; expected one of: {', '.join(s.value for s in State)}"
        ) from None


def check_transition(incident: Incident, target: State, note: str, reviewer: str) -> State:
    """Return the current state if `reviewer` may move the incident to `target`, else raise."""
    current = parse_state(incident.state)
    if not note.strip():
        raise VerificationError("a review needs a note saying why (--note)")
    if not reviewer.strip():
        raise VerificationError("a review needs a reviewer (--as NAME or HUJJAT_USER)")
    if incident.reference:
        raise VerificationError(
            "reference incidents (imported from an outside dataset) are not reviewed here"
        )
    if target == current:
        raise VerificationError(f"incident {incident.id} is already {current.value}")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current]))
        raise VerificationError(f"cannot go from {current.value} to {target.value} (allowed: {allowed})")
    if target is State.VERIFIED:
        if same_person(reviewer, incident.created_by):
            raise VerificationError(
                f"two-person rule: {reviewer} created this incident, so someone else must verify it"
            )
        if same_person(reviewer, incident.updated_by):
            raise VerificationError(
                f"two-person rule: {reviewer} edited this incident last, so someone else must verify it"
            )
    return current


def review(
    incident: Incident, target: State, note: str, reviewer: str, now: datetime
) -> tuple[Incident, Review]:
    """Apply a review: the incident in its new state (same content version) and the review record."""
    current = check_transition(incident, target, note, reviewer)
    record = Review(incident.id, current, target, note.strip(), reviewer, now)
    return replace(incident, state=target.value), record


def state_after_edit(state: str) -> str:
    return AFTER_EDIT.get(parse_state(state), parse_state(state)).value
