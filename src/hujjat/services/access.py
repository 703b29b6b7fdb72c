"""Access-checked reads and sensitivity changes for the web application and the REST API.

Every read a signed-in user makes goes through here, so both front ends share one answer to "may
this user see it": records above the user's clearance are reported as not found (guessing ids
reveals nothing), and every view of a restricted record is a custody entry (who looked at what,
when, through which front end). Items, posts, captures and incidents each carry their own level;
the items a post or capture holds keep theirs.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from typing import Any

from hujjat.domain.accounts import SENSITIVITIES, Forbidden, Right, User, require
from hujjat.domain.errors import ArchiveError, NotFound, UsageError
from hujjat.domain.evidence import EvidenceItem
from hujjat.domain.incidents import incident_summary
from hujjat.ports.accounts import ItemPageQuery, ItemRow
from hujjat.ports.incidents import IncidentFilter
from hujjat.ports.search import FACETS, SearchFilters, SearchHit, SearchResults
from hujjat.services.capture import capture_summary, capture_view
from hujjat.services.context import ArchivePorts
from hujjat.services.incidents import incident_detail
from hujjat.services.post_queries import post_detail, post_summary
from hujjat.services.queries import item_detail
from hujjat.services.search import search
from hujjat.services.sensitivity import change_sensitivity, resolve_record

OPEN_STATES = ("unverified", "corroborated", "disputed")
FILTER_WINDOW = 200
CUSTODY_PAGE = 50


def clearance(user: User) -> tuple[str, ...]:
    return tuple(s for s in SENSITIVITIES if user.can_view(s))


@dataclass
class _Pending:
    actor: str
    action: str
    subject: str | None
    details: dict[str, object]
    done: bool = False
    error: BaseException | None = None


class ViewLog:
    """Custody entries for views, written by group commit: each caller waits until its entry is
    committed (a view is on record before the record is shown), but the entries of requests that
    arrive while a write is under way go into the next transaction together. On SQLite every write
    takes the database's one write lock, and a writer that finds it taken sleeps in coarse steps;
    one transaction per view made concurrent pages of restricted records queue for it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[_Pending] = []
        self._writing = False

    def append(self, ports: ArchivePorts, actor: str, action: str, subject: str | None,
               details: dict[str, object]) -> None:
        mine = _Pending(actor, action, subject, details)
        with self._cond:
            self._pending.append(mine)
            while not mine.done and self._writing:
                self._cond.wait()
            if mine.done:  # another caller's transaction carried it
                if mine.error is not None:
                    raise ArchiveError(f"the view could not be recorded in the custody log: {mine.error}")
                return
            batch, self._pending, self._writing = self._pending, [], True
        error: BaseException | None = None
        try:
            with ports.uow() as tx:
                for entry in batch:
                    tx.custody.append(entry.actor, entry.action, entry.subject, entry.details)
        except BaseException as exc:
            error = exc
            raise
        finally:
            with self._cond:
                for entry in batch:
                    entry.done, entry.error = True, error
                self._writing = False
                self._cond.notify_all()


class Totals:
    """Large totals (item counts of a list page, the dashboard's counts) remembered for a few
    seconds per server process: counting 100,000 items costs 2-9 ms on every page, while a total
    that lags an upload by a few seconds changes nothing a user does (the rows themselves are read
    fresh). Small totals, where an added record is expected to show at once, are never remembered.
    Keys include the user's levels, so no total is shared between clearances."""

    MINIMUM = 5000
    SECONDS = 10.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[object, ...], tuple[float, Any]] = {}
        self.clock = clock

    def get(self, key: tuple[object, ...]) -> Any:
        with self._lock:
            found = self._seen.get(key)
        return found[1] if found and self.clock() - found[0] < self.SECONDS else None

    def put(self, key: tuple[object, ...], value: Any, size: int) -> None:
        if size >= self.MINIMUM:
            with self._lock:
                if len(self._seen) > 1000:  # name searches make keys without bound
                    self._seen.clear()
                self._seen[key] = (self.clock(), value)


@dataclass
class _ArchiveState:
    view_log: ViewLog
    totals: Totals


_STATES: weakref.WeakKeyDictionary[object, _ArchiveState] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def _state(ports: ArchivePorts) -> _ArchiveState:
    """The view log and remembered totals of one open archive (its unit of work), shared by the
    request threads."""
    with _STATES_LOCK:
        try:
            state = _STATES.get(ports.uow)
            if state is None:
                state = _STATES[ports.uow] = _ArchiveState(ViewLog(), Totals())
        except TypeError:  # a unit of work that cannot be weakly referenced: nothing shared
            state = _ArchiveState(ViewLog(), Totals())
        return state


def _view_log(ports: ArchivePorts) -> ViewLog:
    return _state(ports).view_log


def totals(ports: ArchivePorts) -> Totals:
    return _state(ports).totals


def _log_view(ports: ArchivePorts, user: User, kind: str, record_id: str, via: str) -> None:
    _view_log(ports).append(ports, user.name, "record.viewed", record_id, {"kind": kind, "via": via})


def _log_listed(ports: ArchivePorts, user: User, kind: str, ids: list[str], via: str | None) -> None:
    """One custody entry naming the restricted records a list, map or search page showed."""
    if via is not None and ids:
        _view_log(ports).append(ports, user.name, "records.listed", None, {"kind": kind, "ids": ids, "via": via})


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
    wanted = _wanted_levels(user, query.sensitivities)
    if not wanted:
        return [], 0
    query = replace(query, sensitivities=_narrowing(wanted))
    key = ("items", query.media_prefix, query.sensitivities, query.name_contains)
    known: int | None = totals(ports).get(key)
    with ports.uow(read_only=True) as tx:
        rows, total = tx.accounts.page_items(replace(query, count=known is None))
    if known is None:
        totals(ports).put(key, total, total)
    else:
        total = known
    _log_listed(ports, user, "item", [r.id for r in rows if r.sensitivity == "restricted"], via)
    return rows, total


def view_item(ports: ArchivePorts, user: User, reference: str, via: str = "web",
              custody: bool = True) -> dict[str, Any]:
    """An item's full record, if the user may see it; a restricted one is logged as viewed.
    `custody`: with the first page of its custody trail (`with_trail`); the pages read it with
    custody_trail themselves."""
    require(user, Right.READ)
    try:
        detail = item_detail(ports, reference, custody=False)
    except UsageError:
        raise _hidden("evidence item", reference) from None
    if not user.can_view(str(detail["sensitivity"])):
        raise _hidden("evidence item", reference)
    if detail["sensitivity"] == "restricted":
        _log_view(ports, user, "item", str(detail["id"]), via)
    return with_trail(ports, user, "item", detail, via) if custody else detail


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


def set_sensitivity(ports: ArchivePorts, user: User, kind: str, record_id: str, level: str) -> None:
    """An editor changes an item's, post's or capture's level (never to one above their own
    clearance, never on a record they cannot see)."""
    require(user, Right.EDIT_INCIDENTS)
    if level not in SENSITIVITIES:
        raise UsageError(f"invalid sensitivity {level!r}; expected one of: {', '.join(SENSITIVITIES)}")
    if not user.can_view(level):
        raise UsageError("you may not mark records restricted without access to restricted records")
    change_sensitivity(ports, user.name, kind, record_id, level, may_see=user.can_view)


def visible_posts(ports: ArchivePorts, user: User, offset: int = 0, limit: int = 50,
                  via: str | None = "web") -> tuple[list[dict[str, Any]], int]:
    """One page of the posts the user may see (newest first) and their number; restricted ones
    shown are logged."""
    require(user, Right.READ)
    with ports.uow(read_only=True) as tx:
        found, total = tx.posts.page(_narrowing(clearance(user)), offset, limit)
    _log_listed(ports, user, "post", [p.id for p in found if p.sensitivity.value == "restricted"], via)
    return [post_summary(p) for p in found], total


def view_post(ports: ArchivePorts, user: User, reference: str, via: str = "web",
              custody: bool = True) -> dict[str, Any]:
    """A post, if the user may see it (restricted: logged); `custody` as for view_item."""
    return _view_detail(ports, user, "post", reference, lambda: post_detail(ports, reference, custody=False),
                        via, custody)


def _view_detail(ports: ArchivePorts, user: User, kind: str, reference: str,
                 read: Callable[[], dict[str, Any]], via: str, custody: bool) -> dict[str, Any]:
    """The detail `read` returns, if the user may see it: a reference that matches nothing and a
    record above the user's clearance look the same; a restricted record's view is logged."""
    require(user, Right.READ)
    try:
        detail = read()
    except UsageError:
        raise _hidden(kind, reference) from None
    if not user.can_view(str(detail["sensitivity"])):
        raise _hidden(kind, reference)
    if detail["sensitivity"] == "restricted":
        _log_view(ports, user, kind, str(detail["id"]), via)
    return with_trail(ports, user, kind, detail, via) if custody else detail


def visible_captures(ports: ArchivePorts, user: User, offset: int = 0, limit: int = 50,
                     via: str | None = "web") -> tuple[list[dict[str, Any]], int]:
    """One page of the captures the user may see (newest first) and their number."""
    require(user, Right.READ)
    with ports.uow(read_only=True) as tx:
        found, total = tx.captures.page(_narrowing(clearance(user)), offset, limit)
    _log_listed(ports, user, "capture", [c.id for c in found if c.sensitivity.value == "restricted"], via)
    return [capture_summary(c) for c in found], total


def view_capture(ports: ArchivePorts, user: User, capture_id: str, via: str = "web",
                 custody: bool = True) -> dict[str, Any]:
    """A capture (by exact id) with its artefacts, if the user may see it (restricted: logged);
    `custody` as for view_item."""
    require(user, Right.READ)
    with ports.uow(read_only=True) as tx:
        capture = tx.captures.get(capture_id)
        if capture is None or not user.can_view(capture.sensitivity.value):
            raise _hidden("capture", capture_id)
        view = capture_view(capture, tx.captures.artefacts(capture.id))
    if capture.sensitivity.value == "restricted":
        _log_view(ports, user, "capture", capture.id, via)
    return with_trail(ports, user, "capture", view, via) if custody else view


TRAIL_KINDS = ("item", "post", "capture", "incident")
# What a trail entry shows; posts and incidents never showed their entries' details (a post's
# import batch entry describes the whole batch).
_TRAIL_FIELDS = {"item": ("seq", "time", "actor", "action", "details", "hash"),
                 "capture": ("seq", "time", "actor", "action", "details", "hash"),
                 "post": ("seq", "time", "actor", "action", "subject", "hash"),
                 "incident": ("seq", "time", "actor", "action", "hash")}


def custody_trail(ports: ArchivePorts, user: User, kind: str, record_id: str, views: bool = False,
                  before: int | None = None, limit: int = CUSTODY_PAGE, via: str = "web", *,
                  level: str | None = None) -> dict[str, Any]:
    """One page (newest first) of an item's, post's, capture's or incident's custody trail
    without its `record.viewed` entries, or of only those (`views`), with how many views there
    are: the trail of a much-viewed restricted record stays cheap to show. A post's trail
    includes the entry of the import that added it. Reading more of a restricted record's trail
    is itself logged as a view. `level`: the record's sensitivity when the caller has just read the
    record (a detail page), so it is not read again."""
    require(user, Right.READ)
    if kind not in TRAIL_KINDS:
        raise UsageError(f"no custody trail for {kind!r}")
    also: tuple[str, ...] = ()
    with ports.uow(read_only=True) as tx:
        if level is None and kind == "incident":
            incident = tx.incidents.get(record_id)
            level = incident.sensitivity.value if incident else None
        elif level is None:
            level = tx.accounts.record_sensitivity(kind, record_id)
        if level is None or not user.can_view(level):
            raise _hidden(kind, record_id)
        if kind == "post" and (batch := tx.posts.custody_batch(record_id)):
            also = (batch,)
        entries = tx.accounts.custody_page(record_id, views, before, limit + 1, also)
        viewed = tx.accounts.custody_count(record_id, "record.viewed")
    if level == "restricted" and (views or before is not None):  # the first page is part of the record's page
        _log_view(ports, user, f"{kind}.custody", record_id, via)
    fields = _TRAIL_FIELDS[kind]
    return {"entries": [{k: e.get(k) for k in fields} for e in entries[:limit]], "more": len(entries) > limit,
            "next": entries[limit - 1]["seq"] if len(entries) > limit else None, "views": viewed}


def detail_trail(ports: ArchivePorts, user: User, kind: str, detail: dict[str, Any],
                 via: str = "web") -> dict[str, Any]:
    """The first page of the custody trail of a record whose detail the user was just shown."""
    return custody_trail(ports, user, kind, str(detail["id"]), via=via, level=str(detail["sensitivity"]))


def with_trail(ports: ArchivePorts, user: User, kind: str, detail: dict[str, Any], via: str) -> dict[str, Any]:
    """The record's detail with the first page of its custody trail (API): `custody` (newest
    first, without record.viewed entries), `custody_views` (their number) and `custody_next`
    (the `before` for the next page, or None)."""
    trail = detail_trail(ports, user, kind, detail, via)
    return {**detail, "custody": trail["entries"], "custody_views": trail["views"], "custody_next": trail["next"]}


def view_incident(ports: ArchivePorts, user: User, reference: str, via: str = "web",
                  custody: bool = True) -> dict[str, Any]:
    """An incident, if the user may see it (restricted: logged); `custody` as for view_item."""
    return _view_detail(ports, user, "incident", reference,
                        lambda: incident_detail(ports, reference, custody=False), via, custody)


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


def visible_incidents(ports: ArchivePorts, user: User, query: IncidentFilter, via: str | None = "web",
                      ) -> list[dict[str, Any]]:
    """Every incident the user may see (map, timeline, exports); restricted ones returned are
    logged (`via`; None for aggregate uses such as counts that show no record)."""
    require(user, Right.READ)
    wanted = _wanted_levels(user, query.sensitivities)
    if not wanted:
        return []
    with ports.uow(read_only=True) as tx:  # streamed
        found = list(tx.incidents.iter_incidents(replace(query, sensitivities=_narrowing(wanted))))
        links = tx.incidents.links_by_incident([i.id for i in found])
    _log_listed(ports, user, "incident", [i.id for i in found if i.sensitivity.value == "restricted"], via)
    return [{**i.to_record(), "links": [link.to_record() for link in links.get(i.id, [])]} for i in found]


def page_incidents(ports: ArchivePorts, user: User, query: IncidentFilter, offset: int = 0, limit: int = 50,
                   via: str | None = "web", links: bool = True) -> tuple[list[dict[str, Any]], int]:
    """One page of the incidents the user may see and their number, paged and counted in SQL (a
    number of 5,000 or more is remembered for a few seconds, as in page_items); restricted ones
    shown are logged. Each record has its `links`; or, with `links=False` (the list page), each
    is the summary a list shows (domain.incidents.incident_summary) with only the number of its
    links (`link_count`): reading every link of 50 incidents was a seventh of the page's cost,
    building 50 Incidents and their records another fifth."""
    require(user, Right.READ)
    wanted = _wanted_levels(user, query.sensitivities)
    if not wanted:
        return [], 0
    query = replace(query, sensitivities=_narrowing(wanted))
    key = ("incidents", query)
    known: int | None = totals(ports).get(key)
    with ports.uow(read_only=True) as tx:
        if links:
            page, total = tx.incidents.page_incidents(query, offset, limit, count=known is None)
            records = [i.to_record() for i in page]
        else:  # the list page: a summary of each stored record, no Incident built
            stored, total = tx.incidents.page_records(query, offset, limit, count=known is None)
            records = [incident_summary(r) for r in stored]
        ids = [str(r["id"]) for r in records]
        found = tx.incidents.links_by_incident(ids) if links else {}
        counts = {} if links else tx.incidents.link_counts(ids)
    if known is None:
        totals(ports).put(key, total, total)
    else:
        total = known
    _log_listed(ports, user, "incident", [str(r["id"]) for r in records if r["sensitivity"] == "restricted"], via)
    if not links:
        return [{**r, "link_count": counts.get(str(r["id"]), 0)} for r in records], total
    return [{**r, "links": [link.to_record() for link in found.get(str(r["id"]), [])]} for r in records], total


def _wanted_levels(user: User, asked: tuple[str, ...]) -> tuple[str, ...]:
    allowed = clearance(user)
    return tuple(s for s in asked if s in allowed) if asked else allowed


def _hit_visible(user: User, hit: SearchHit, levels: dict[str, str]) -> bool:
    return user.can_view(levels.get(hit.record_id, "restricted"))  # a record of unknown level is not shown


def visible_search(ports: ArchivePorts, user: User, query: str, filters: SearchFilters | None = None,
                   order: str = "relevance", limit: int = 20, offset: int = 0,
                   via: str | None = "web") -> SearchResults:
    """Search results without the records the user may not see.

    For users cleared for restricted records this is the index's answer. For the others, the index's
    facets would count (and name the places and sources of) restricted records, so the first
    FILTER_WINDOW hits are read, the invisible ones dropped, and the facets counted from what is
    left. The total is exact within the window and counts nothing beyond it, so it may undercount
    but never counts a restricted record."""
    require(user, Right.READ)
    if user.restricted_access:
        results = search(ports, query, filters, order, limit, offset)
        seen = _levels_of(ports, results.hits)
        shown = [h.record_id for h in results.hits if seen.get(h.record_id) == "restricted"]
        _log_listed(ports, user, "search", shown, via)
        return results
    window = search(ports, query, filters, order, FILTER_WINDOW, 0)
    levels = _levels_of(ports, window.hits)
    kept = [h for h in window.hits if _hit_visible(user, h, levels)]
    facets: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for hit in kept:
        month = hit.date.strftime("%Y-%m") if hit.date else None
        for name, value in (("kind", hit.kind), ("language", hit.language), ("source", hit.source),
                            ("place", hit.place), ("state", hit.state), ("month", month)):
            if value:
                facets[name][value] += 1
    return SearchResults(total=len(kept), hits=kept[offset:offset + limit],
                         facets={k: c.most_common() for k, c in facets.items()}, order=window.order,
                         approximate=window.approximate)  # a sampled ranking stays an approximation


def _levels_of(ports: ArchivePorts, hits: list[SearchHit]) -> dict[str, str]:
    """The sensitivity of each hit's record (absent where none is stored), in one read of only
    the tables of the hits' kinds."""
    if not hits:
        return {}
    with ports.uow(read_only=True) as tx:
        return tx.accounts.record_sensitivities([h.record_id for h in hits], {h.kind for h in hits})


def _open_queue(ports: ArchivePorts, user: User, limit: int, scan: int = 5000) -> list[dict[str, Any]]:
    """The oldest open incidents (waiting for review), read in date order and filtered here: a
    state filter in SQL would sort every open incident before returning the first few."""
    found = []
    with ports.uow(read_only=True) as tx:
        wanted = IncidentFilter(sensitivities=_narrowing(clearance(user)))
        for incident in islice(tx.incidents.iter_incidents(wanted, batch=limit * 3), scan):
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
        wanted = _narrowing(clearance(user))
        counts: dict[str, int] | None = totals(ports).get(("tables", wanted))
        if counts is None:
            counts = tx.accounts.table_counts(("items", "posts", "captures", "incidents", "users"), wanted)
            totals(ports).put(("tables", wanted), counts, max(counts.values(), default=0))
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
    """Before linking: an item, post or capture the user may not see is reported as not found."""
    try:
        kind, record_id = resolve_record(ports, reference)
    except (NotFound, UsageError):
        return  # nothing to link: the link itself reports it
    with ports.uow(read_only=True) as tx:
        level = tx.accounts.record_sensitivity(kind, record_id) or "restricted"
    if not user.can_view(level):
        raise _hidden("evidence item, post or capture", reference)


def check_level(user: User, level: str | None) -> None:
    """Nobody may mark a record at a level they could not see themselves."""
    if level and level in SENSITIVITIES and not user.can_view(level):
        raise UsageError("you may not mark records restricted without access to restricted records")


def check_package_selection(ports: ArchivePorts, user: User, incident_refs: list[str]) -> list[str]:
    """Incident ids for a package, refused when an incident or an item, post or capture it links
    to (which the package would carry) is above the user's clearance."""
    require(user, Right.EXPORT)
    ids = [check_incident_visible(ports, user, ref) for ref in incident_refs]
    with ports.uow(read_only=True) as tx:
        for incident_id in ids:
            for link in tx.incidents.links(incident_id):
                level = tx.accounts.record_sensitivity(link.target_kind, link.target_id) or "restricted"
                if not user.can_view(level):
                    raise Forbidden(f"a linked {link.target_kind} is restricted; ask someone cleared for it")
    return ids
