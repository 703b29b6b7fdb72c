"""Port for storing incidents, their versions, evidence links and reviews."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from hujjat.domain.incidents import Incident, IncidentLink, IncidentVersion
from hujjat.domain.verification import Review


@dataclass(frozen=True)
class IncidentFilter:
    include_reference: bool = False
    only_reference: bool = False
    states: tuple[str, ...] = ()
    sensitivities: tuple[str, ...] = ()
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None
    type: str | None = None


class IncidentRepository(Protocol):
    def add(self, incident: Incident) -> None: ...

    def save(self, incident: Incident) -> None:
        """Replace the current record (the caller has stored the version first)."""
        ...

    def get(self, incident_id: str) -> Incident | None: ...

    def resolve(self, reference: str) -> Incident:
        """By id or a unique id prefix (at least 4 characters)."""
        ...

    def by_source(self, source: str) -> Incident | None: ...

    def iter_incidents(self, query: IncidentFilter, batch: int = 1000) -> Iterator[Incident]: ...

    def page_incidents(self, query: IncidentFilter, offset: int, limit: int,
                       count: bool = True) -> tuple[list[Incident], int]:
        """One page of the matching incidents (in iter_incidents' order) and their number, both in
        SQL (-1 without `count`)."""
        ...

    def page_records(self, query: IncidentFilter, offset: int, limit: int,
                     count: bool = True) -> tuple[list[dict[str, Any]], int]:
        """page_incidents' page as the stored records (Incident.to_record's shape), not Incidents."""
        ...

    def add_version(self, version: IncidentVersion) -> None: ...

    def versions(self, incident_id: str) -> list[IncidentVersion]: ...

    def add_link(self, link: IncidentLink) -> bool:
        """False when the same target is already linked in the same role."""
        ...

    def links(self, incident_id: str) -> list[IncidentLink]: ...

    def links_by_incident(self, incident_ids: list[str]) -> dict[str, list[IncidentLink]]: ...

    def link_counts(self, incident_ids: list[str]) -> dict[str, int]: ...

    def add_review(self, review_id: str, review: Review) -> None: ...

    def reviews(self, incident_id: str) -> list[Review]: ...

    def find_target(self, kind: str, reference: str) -> str | None:
        """The id of a post or capture matching `reference`, or None (also when that feature's
        tables are absent from this installation)."""
        ...
