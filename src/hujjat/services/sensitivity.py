"""Changing the sensitivity (public, internal, restricted) of an evidence item, a post or a web
capture: one rule for the CLI (`hujjat sensitivity`) and the web/API (services/access.py checks the
user first). Every change is a custody entry, and the search index is refreshed so an archive that
keeps restricted records out of its index stays consistent. Incidents carry their level in their
own record and change it through the incident edit.
"""

from __future__ import annotations

from collections.abc import Callable

from hujjat.domain.errors import Ambiguous, NotFound, UsageError
from hujjat.domain.evidence import Sensitivity
from hujjat.services.context import ArchivePorts
from hujjat.services.search import refresh_records

KINDS = ("item", "post", "capture")
INDEX_KIND = {"item": "evidence", "post": "post", "capture": "capture"}  # kind -> search index kind
NOUN = {"item": "evidence item", "post": "post", "capture": "capture"}


def check_level(level: str) -> str:
    try:
        return Sensitivity(level).value
    except ValueError:
        raise UsageError(f"invalid sensitivity {level!r}; expected one of: "
                         f"{', '.join(s.value for s in Sensitivity)}") from None


def resolve_record(ports: ArchivePorts, reference: str, kind: str | None = None) -> tuple[str, str]:
    """(kind, id) of the item, post or capture a reference names: an id or unique prefix, an
    item's sha256, a post's `chat/message`. Without `kind`, items are tried first, then posts,
    then captures; a reference matching none is NotFound."""
    if kind is not None and kind not in KINDS:
        raise UsageError(f"invalid kind {kind!r}; expected one of: {', '.join(KINDS)}")
    with ports.uow(read_only=True) as tx:
        for candidate in (kind,) if kind else KINDS:
            try:
                if candidate == "item":
                    return "item", tx.items.resolve(reference).id
                if candidate == "post":
                    return "post", tx.posts.resolve(reference).id
                capture = tx.captures.resolve(reference)
                if capture is not None:
                    return "capture", capture.id
            except Ambiguous:
                raise
            except (NotFound, UsageError):
                continue
    raise NotFound(f"no {NOUN[kind] if kind else 'evidence item, post or capture'} matches {reference!r}")


def change_sensitivity(ports: ArchivePorts, actor: str, kind: str, record_id: str, level: str,
                       may_see: Callable[[str], bool] = lambda _level: True) -> str:
    """Set the record's level; returns the previous one. A record whose current level fails
    `may_see` (the acting user's clearance) is reported as not found."""
    level = check_level(level)
    if kind not in KINDS:
        raise UsageError(f"invalid kind {kind!r}; expected one of: {', '.join(KINDS)}")
    with ports.uow() as tx:
        current = tx.accounts.record_sensitivity(kind, record_id)
        if current is None or not may_see(current):
            raise NotFound(f"no {NOUN[kind]} matches {record_id!r}")
        if current != level:
            tx.accounts.set_record_sensitivity(kind, record_id, level)
            tx.custody.append(actor, f"{kind}.sensitivity_changed", record_id, {"from": current, "to": level})
    if current != level:
        refresh_records(ports, INDEX_KIND[kind], [record_id])
    return current
