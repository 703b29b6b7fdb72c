"""Reads the searchable records of other features' tables for reindexing: posts (with their
chat), captures and incidents. Each table is read only if it exists and only through columns it
has (reflected), so reindexing works in an archive built before a feature existed and survives
columns added later. Evidence items are gathered by services.search through the ports.

Values sealed by field encryption (encrypted archives on a database server) are opened here, and
`withheld_records` names the restricted records such an archive keeps out of the index altogether:
the index (terms, snippets, facets) would otherwise hold their text in plaintext.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from hujjat.adapters.db.capture_repository import NOTE as CAPTURE_NOTE
from hujjat.adapters.db.field_cipher import cipher_of, sealing
from hujjat.adapters.db.incidents_repository import RECORD as INCIDENT_RECORD
from hujjat.adapters.db.incidents_repository import TITLE as INCIDENT_TITLE
from hujjat.adapters.db.incidents_tables import incidents
from hujjat.adapters.db.tables import items
from hujjat.ports.search import SearchDocument

CHUNK = 2000


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _rows(conn: sa.Connection, table: sa.Table, ids: Sequence[str] | None = None) -> Iterator[Any]:
    key = next(iter(table.primary_key.columns))
    if ids is not None:
        for start in range(0, len(ids), 500):
            yield from conn.execute(sa.select(table).where(key.in_(list(ids[start : start + 500])))).all()
        return
    last: Any = None
    while True:
        statement = sa.select(table).order_by(key).limit(CHUNK)
        if last is not None:
            statement = statement.where(key > last)
        rows = conn.execute(statement).all()
        yield from rows
        if len(rows) < CHUNK:
            return
        last = getattr(rows[-1], key.name)


def _get(row: Any, name: str) -> Any:
    return getattr(row, name, None)


def _posts(
    conn: sa.Connection, tables: dict[str, sa.Table], ids: Sequence[str] | None
) -> Iterator[SearchDocument]:
    chats: dict[str, str] = {}
    if "chats" in tables:
        for chat in conn.execute(sa.select(tables["chats"])).all():
            chats[chat.key] = _get(chat, "username") or _get(chat, "name") or chat.key
    for row in _rows(conn, tables["posts"], ids):
        text = _get(row, "text") or ""
        chat = chats.get(row.chat_key, row.chat_key)
        when = _when(_get(row, "date_utc"))
        record = {
            "chat": chat,
            "chat_key": row.chat_key,
            "message_id": _get(row, "message_id"),
            "date": when.isoformat() if when else _get(row, "date_local"),
            "text": text,
            "from": _get(row, "from_name"),
        }
        yield SearchDocument(
            "post", row.id, text, date=when, source=chat, category=_get(row, "kind"), record=record
        )


def _captures(
    conn: sa.Connection, tables: dict[str, sa.Table], ids: Sequence[str] | None
) -> Iterator[SearchDocument]:
    for row in _rows(conn, tables["captures"], ids):
        url = _get(row, "final_url") or _get(row, "url") or ""
        title = _get(row, "title")
        note = cipher_of(conn).open_(_get(row, "note"), CAPTURE_NOTE)
        text = "\n".join(p for p in (title, note, _get(row, "text"), url) if p)
        when = _when(_get(row, "started_at"))
        record = {"url": url, "title": title, "date": when.isoformat() if when else None}
        yield SearchDocument(
            "capture", row.id, text, title=title, date=when, source=urlsplit(url).hostname,
            category=_get(row, "state"), record=record,
        )


def _incidents(
    conn: sa.Connection, tables: dict[str, sa.Table], ids: Sequence[str] | None
) -> Iterator[SearchDocument]:
    fields = cipher_of(conn)
    for row in _rows(conn, tables["incidents"], ids):
        raw = fields.open_json(_get(row, "record"), INCIDENT_RECORD) or {}
        title = fields.open_(_get(row, "title"), INCIDENT_TITLE) or raw.get("title") or ""
        description = raw.get("description") or ""
        place = raw.get("place") or {}
        place_name = place.get("name") or place.get("text") if isinstance(place, dict) else None
        when = _when(_get(row, "start_date") or raw.get("start_date"))
        record = {
            "title": title, "type": _get(row, "type"), "state": _get(row, "state"),
            "start_date": _get(row, "start_date"), "place": place_name,
        }
        yield SearchDocument(
            "incident", row.id, f"{title}\n{description}", title=title, date=when, place=place_name,
            state=_get(row, "state"), category=_get(row, "type"), source=_get(row, "source"), record=record,
        )


Reader = Callable[[sa.Connection, dict[str, sa.Table], Sequence[str] | None], Iterator[SearchDocument]]
READERS: dict[str, tuple[str, Reader]] = {
    "post": ("posts", _posts),
    "capture": ("captures", _captures),
    "incident": ("incidents", _incidents),
}


def gather_documents(
    engine: sa.Engine, kind: str | None = None, ids: Sequence[str] | None = None
) -> Iterator[SearchDocument]:
    """Documents of one kind (or all) from the tables that exist; only `ids` when given."""
    with engine.connect().execution_options(hujjat_read_only=True) as conn:
        existing = set(sa.inspect(conn).get_table_names())
        wanted = {name for k, (name, _) in READERS.items() if kind in (None, k)}
        names = ({"chats"} | wanted) & existing
        reflected = sa.MetaData()
        tables = {name: sa.Table(name, reflected, autoload_with=conn) for name in sorted(names)}
        for table, reader in READERS.values():
            if table in tables and table in wanted:
                yield from reader(conn, tables, ids)


def withheld_records(engine: sa.Engine, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (kind, id) of restricted evidence items and incidents among `keys` when the archive
    seals fields: they are not indexed (not searchable by anyone) rather than indexed in plaintext."""
    if not sealing(engine):
        return set()
    wanted = {"evidence": (items, items.c.id), "incident": (incidents, incidents.c.id)}
    found: set[tuple[str, str]] = set()
    with engine.connect().execution_options(hujjat_read_only=True) as conn:
        for kind, (table, key) in wanted.items():
            ids = [record_id for k, record_id in keys if k == kind]
            for start in range(0, len(ids), 500):
                rows = conn.execute(
                    sa.select(key).where(key.in_(ids[start : start + 500]), table.c.sensitivity == "restricted")
                ).scalars()
                found.update((kind, str(record_id)) for record_id in rows)
    return found


def indexed_ids(conn: sa.Connection, table: sa.Table, kind: str, record_ids: Sequence[str]) -> set[str]:
    """Which of `record_ids` of `kind` have a row in `table` (a document table with kind and
    record_id columns: the plain index's or the blind index's)."""
    found: set[str] = set()
    for start in range(0, len(record_ids), 500):
        part = record_ids[start : start + 500]
        found.update(conn.execute(
            sa.select(table.c.record_id).where(table.c.kind == kind, table.c.record_id.in_(part))
        ).scalars())
    return found
