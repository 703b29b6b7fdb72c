"""Access-checked reads and sensitivity changes for the web application and the REST API.

Every read a signed-in user makes goes through here, so both front ends share one answer to "may
this user see it": records above the user's clearance are reported as not found (guessing ids
reveals nothing), and every view of a restricted record is a custody entry (who looked at what,
when, through which front end). Posts and captures have no sensitivity of their own yet and are
visible to every signed-in user.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from itertools import islice
from typing import Any

from hujjat.domain.accounts import SENSITIVITIES, Forbidden, Right, User, require
from hujjat.domain.errors import NotFound, UsageError
from hujjat.domain.evidence import EvidenceItem
from hujjat.ports.accounts import ItemPageQuery, ItemRow
from hujjat.ports.incidents import IncidentFilter
from hujjat.ports.search import FACETS, SearchFilters, SearchHit, SearchResults
from hujjat.services.context import ArchivePorts
from hujjat.services.incidents import incident_detail
from hujjat.services.queries import item_detail
from hujjat.services.search import refresh_records, search

OPEN_STATES = ("unverified", "corroborated", "disputed")
FILTER_WINDOW = 200
OPEN_KINDS = ("post", "capture")  # kinds without a sensitivity: visible to every signed-in user


def clearance(user: User) -> tuple[str, ...]:
    return tuple(s for s in SENSITIVITIES if user.can_view(s))


def _log_view(ports: ArchivePorts, user: User, kind: str, record_id: str, via: str) -> None:
    with ports.uow() as tx:
        tx.custody.append(user.name, "record.viewed", record_id, {"kind": kind, "via": via})


def _log_listed(ports: ArchivePorts, user: User, kind: str, ids: list[str], via: str | None) -> None:
    """One custody entry naming the restricted records a list, map or search page showed."""
    if via is not None and ids:
        with ports.uow() as tx:
            tx.custody.append(user.name, "records.listed", None, {"kind": kind, "ids": ids, "via": via})


def _hidden(kind: str, reference: str) -> NotFound:
    return NotFound(f"no {kind} matches {reference!r}")


def _narrowing(levels: tuple[str, ...]) -> tuple[str, ...]:
    """A sensitivity filter, or none at all when every level is wanted (SQL can then count and
    page by index alone)."""
    return () if set(levels) >= set(SENSITIVITIES) else levels


def page_items(ports: ArchivePorts, user: User, query: ItemPageQuery,
               via: str | None = "web") -> tuple[list[ItemRow], int]:
    """One page of the items the user may see; restricted ones shown are logged (`via`)."""
    require(user, Right.READ)
    allowed = clearance(user)
    wanted = tuple(s for s in query.sensitivities if s in allowed) if query.sensitivities else allowed
    if not wanted:
        return [], 0
    with ports.uow(read_only=True) as tx:
        rows, total = tx.accounts.page_items(replace(query, sensitivities=_narrowing(wanted)))
    _log_listed(ports, user, "item", [r.id for r in rows if r.sensitivity == "restricted"], via)
    return rows, total


def view_item(ports: ArchivePorts, user: User, reference: str, via: str = "web") -> dict[str, Any]:
    """An item's full record, if the user may see it; a restricted one is logged as viewed."""
    require(user, Right.READ)
    try:
        detail = item_detail(ports, reference)
    except UsageError:
        raise _hidden("evidence item", reference) from None
    if not user.can_view(str(detail["sensitivity"])):
        raise _hidden("evidence item", reference)
    if detail["sensitivity"] == "restricted":
        _log_view(ports, user, "item", str(detail["id"]), via)
    return detail


def item_for_bytes(ports: ArchivePorts, user: User, item_id: str, via: str = "web") -> EvidenceItem:
    """The item whose bytes the user asks for (by exact id only), if visible; restricted: logged."""
    require(user, Right.READ)
    with ports.uow(read_only=True) as tx:
        item = tx.items.get(item_id)
    if item is None or not user.can_view(item.sensitivity.value):
        raise _hidden("evidence item", item_id)
    if item.sensitivity.value == "restricted":
        _log_view(ports, user, "item.bytes", item.id, via)
    return item


def set_item_sensitivity(ports: ArchivePorts, user: User, item_id: str, level: str) -> None:
    require(user, Right.EDIT_INCIDENTS)
    if level not in SENSITIVITIES:
        raise UsageError(f"invalid sensitivity {level!r}; expected one of: {', '.join(SENSITIVITIES)}")
    if not user.can_view(level):
        raise UsageError("you may not mark records restricted without access to restricted records")
    with ports.uow() as tx:
        current = tx.accounts.item_sensitivity(item_id)
        if current is None or not user.can_view(current):
            raise _hidden("evidence item", item_id)
        if current != level:
            tx.accounts.set_item_sensitivity(item_id, level)
            tx.custody.append(user.name, "item.sensitivity_changed", item_id, {"from": current, "to": level})
    refresh_records(ports, "evidence", [item_id])  # an archive may keep restricted records out of its index


def view_incident(ports: ArchivePorts, user: User, reference: str, via: str = "web") -> dict[str, Any]:
    require(user, Right.READ)
    try:
        detail = incident_detail(ports, reference)
    except UsageError:
        raise _hidden("incident", reference) from None
    if not user.can_view(str(detail["sensitivity"])):
        raise _hidden("incident", reference)
    if detail["sensitivity"] == "restricted":
        _log_view(ports, user, "incident", str(detail["id"]), via)
    return detail


def check_incident_visible(ports: ArchivePorts, user: User, reference: str) -> str:
    """The incident's id when the user may see it (before changing it); NotFound otherwise."""
    with ports.uow(read_only=True) as tx:
        try:
            incident = tx.incidents.resolve(reference)
        except UsageError:
            raise _hidden("incident", reference) from None
    if not user.can_view(incident.sensitivity.value):
        raise _hidden("incident", reference)
    return incident.id


def visible_incidents(ports: ArchivePorts, user: User, query: IncidentFilter, offset: int = 0,
                      limit: int | None = None, via: str | None = "web") -> list[dict[str, Any]]:
    """The incidents the user may see; restricted ones returned are logged (`via`; None for
    aggregate uses such as counts that show no record)."""
    require(user, Right.READ)
    allowed = clearance(user)
    wanted = tuple(s for s in query.sensitivities if s in allowed) if query.sensitivities else allowed
    if not wanted:
        return []
    stop = None if limit is None else offset + limit
    with ports.uow(read_only=True) as tx:  # streamed, so a page never loads every incident
        page = list(islice(tx.incidents.iter_incidents(replace(query, sensitivities=_narrowing(wanted))), offset, stop))
        links = tx.incidents.links_by_incident([i.id for i in page])
    _log_listed(ports, user, "incident", [i.id for i in page if i.sensitivity.value == "restricted"], via)
    return [{**i.to_record(), "links": [link.to_record() for link in links.get(i.id, [])]} for i in page]


def _hit_visible(user: User, hit: SearchHit, levels: dict[tuple[str, str], str]) -> bool:
    level = levels.get((hit.kind, hit.record_id), "internal")
    return user.can_view(level)


def visible_search(ports: ArchivePorts, user: User, query: str, filters: SearchFilters | None = None,
                   order: str = "relevance", limit: int = 20, offset: int = 0,
                   via: str | None = "web") -> SearchResults:
    """Search results without the records the user may not see.

    For users cleared for restricted records this is the index's answer. For the others, the index's
    facets would count (and name the places and sources of) restricted records, so the first
    FILTER_WINDOW hits are read, the invisible ones dropped, and the facets counted from what is
    left. The total is exact within the window; beyond it only posts and captures (which have no
    sensitivity) are counted, so it may undercount but never counts a restricted record."""
    require(user, Right.READ)
    if user.restricted_access:
        results = search(ports, query, filters, order, limit, offset)
        seen = _levels_of(ports, [h.record_id for h in results.hits if h.kind in ("evidence", "incident")])
        shown = [h.record_id for h in results.hits
                 if h.kind in ("evidence", "incident") and seen.get(h.record_id) == "restricted"]
        _log_listed(ports, user, "search", shown, via)
        return results
    window = search(ports, query, filters, order, FILTER_WINDOW, 0)
    checked = [h for h in window.hits if h.kind in ("evidence", "incident")]
    known = _levels_of(ports, [h.record_id for h in checked])
    levels = {(h.kind, h.record_id): known.get(h.record_id, "restricted") for h in checked}
    kept = [h for h in window.hits if _hit_visible(user, h, levels)]
    facets: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for hit in kept:
        month = hit.date.strftime("%Y-%m") if hit.date else None
        for name, value in (("kind", hit.kind), ("language", hit.language), ("source", hit.source),
                            ("place", hit.place), ("state", hit.state), ("month", month)):
            if value:
                facets[name][value] += 1
    beyond = _open_kinds_beyond(ports, query, filters, window)
    return SearchResults(total=len(kept) + beyond, hits=kept[offset:offset + limit],
                         facets={k: c.most_common() for k, c in facets.items()}, order=window.order)


def _open_kinds_beyond(ports: ArchivePorts, query: str, filters: SearchFilters | None,
                       window: SearchResults) -> int:
    """How many posts and captures match past the window (evidence and incidents there are unchecked)."""
    if window.total <= len(window.hits):
        return 0
    base = filters or SearchFilters()
    asked = base.include.get("kind")
    kinds = [k for k in OPEN_KINDS if (not asked or k in asked) and k not in base.exclude.get("kind", [])]
    if not kinds:
        return 0
    counted = search(ports, query, replace(base, include={**base.include, "kind": kinds}), window.order, 1, 0).total
    return max(0, counted - sum(1 for h in window.hits if h.kind in kinds))


def _levels_of(ports: ArchivePorts, record_ids: list[str]) -> dict[str, str]:
    """The sensitivity of each id naming an item or incident (others absent), in one read."""
    if not record_ids:
        return {}
    with ports.uow(read_only=True) as tx:
        return tx.accounts.record_sensitivities(record_ids)


def _open_queue(ports: ArchivePorts, user: User, limit: int, scan: int = 5000) -> list[dict[str, Any]]:
    """The oldest open incidents (waiting for review), read in date order and filtered here: a
    state filter in SQL would sort every open incident before returning the first few."""
    found = []
    with ports.uow(read_only=True) as tx:
        for incident in islice(tx.incidents.iter_incidents(IncidentFilter(sensitivities=_narrowing(clearance(user)))), scan):
            if incident.state in OPEN_STATES:
                found.append(incident.to_record())
                if len(found) >= limit:
                    break
    _log_listed(ports, user, "incident", [str(r["id"]) for r in found if r["sensitivity"] == "restricted"], "web")
    return found


def dashboard(ports: ArchivePorts, user: User, activity: int = 15) -> dict[str, Any]:
    """Counts, recent custody activity (details only for users cleared for restricted records,
    since details may name them) and the verification queue."""
    require(user, Right.READ)
    with ports.uow(read_only=True) as tx:
        counts = tx.accounts.table_counts(("items", "posts", "captures", "incidents", "users"),
                                          _narrowing(clearance(user)))
        recent = tx.accounts.recent_custody(activity)
        if not user.restricted_access:
            subjects = sorted({str(e["subject"]) for e in recent if e.get("subject")})
            levels = tx.accounts.record_sensitivities(subjects)
            hidden = {s for s in subjects if levels.get(s) == "restricted"}
            recent = [{k: v for k, v in e.items() if k != "details"} for e in recent if e.get("subject") not in hidden]
    queue: list[dict[str, Any]] = []
    if counts.get("incidents"):
        queue = _open_queue(ports, user, 20)
    return {"counts": counts, "activity": recent, "queue": queue}


def parse_when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def check_target_visible(ports: ArchivePorts, user: User, reference: str) -> None:
    """Before linking: an evidence item the user may not see is reported as not found."""
    with ports.uow(read_only=True) as tx:
        try:
            item = tx.items.resolve(reference)
        except (NotFound, UsageError):
            return  # not an item: posts and captures are visible to all signed-in users
    if not user.can_view(item.sensitivity.value):
        raise _hidden("evidence item", reference)


def check_level(user: User, level: str | None) -> None:
    """Nobody may mark a record at a level they could not see themselves."""
    if level and level in SENSITIVITIES and not user.can_view(level):
        raise UsageError("you may not mark records restricted without access to restricted records")


def check_package_selection(ports: ArchivePorts, user: User, incident_refs: list[str]) -> list[str]:
    """Incident ids for a package, refused when an incident or an item it links to (which the
    package would carry) is above the user's clearance."""
    require(user, Right.EXPORT)
    ids = [check_incident_visible(ports, user, ref) for ref in incident_refs]
    with ports.uow(read_only=True) as tx:
        for incident_id in ids:
            for link in tx.incidents.links(incident_id):
                if link.target_kind == "item":
                    level = tx.accounts.item_sensitivity(link.target_id) or "restricted"
                    if not user.can_view(level):
                        raise Forbidden("a linked evidence item is restricted; ask someone cleared for it")
    return ids
