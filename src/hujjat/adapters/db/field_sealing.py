"""Sealing the values a PostgreSQL archive stored before `hujjat encrypt` converted it.

The repositories seal sensitive fields as they write them (adapters/db/field_cipher.py); values
written earlier are still plaintext. `seal_existing` walks every sealed column of every table
that exists, in primary-key order and in batches of `batch` rows, and seals each value that is
not sealed yet — one transaction per batch, so an interruption loses at most one uncommitted
batch and a re-run skips what is done (a sealed value is recognised by its `hjf1:` prefix or its
`{"sealed": ...}` JSON form and never sealed twice). Readers open sealed and plaintext values
alike, so the archive stays usable while this runs or after it stopped half-way.

The list of columns is the one the repositories seal; a test checks that after `encrypt` no
plaintext of them is left in any table (tests/integration/test_protection_fields.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.capture_repository import NOTE as CAPTURE_NOTE
from hujjat.adapters.db.field_cipher import CUSTODY_LABEL, PREFIX, SEALED_JSON, FieldCipher, cipher_of
from hujjat.adapters.db.incidents_repository import (
    LINK_NOTE,
    RECORD,
    REVIEW_NOTE,
    TITLE,
    VERSION_CHANGES,
    VERSION_RECORD,
)
from hujjat.adapters.db.packages_repository import IMPORTED
from hujjat.adapters.db.repositories import METADATA_LABEL

DEFAULT_BATCH = 500


@dataclass(frozen=True)
class SealedColumn:
    table: str
    column: str
    label: str
    json: bool = False
    only_restricted: bool = False  # incidents.title: sealed for restricted incidents only


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn("acquisitions", "note", "acquisitions.note"),
    SealedColumn("item_metadata", "data", METADATA_LABEL, json=True),
    SealedColumn("incidents", "record", RECORD, json=True),
    SealedColumn("incidents", "title", TITLE, only_restricted=True),
    SealedColumn("incident_versions", "record", VERSION_RECORD, json=True),
    SealedColumn("incident_versions", "changes", VERSION_CHANGES, json=True),
    SealedColumn("incident_links", "note", LINK_NOTE),
    SealedColumn("incident_reviews", "note", REVIEW_NOTE),
    SealedColumn("captures", "note", CAPTURE_NOTE),
    SealedColumn("custody_entries", "body", CUSTODY_LABEL),
    SealedColumn("imported_custody_entries", "body", IMPORTED),
)


def is_sealed(value: Any, json_column: bool) -> bool:
    if value is None:
        return True  # nothing to seal
    if json_column:
        return isinstance(value, dict) and set(value) == {SEALED_JSON} and str(value[SEALED_JSON]).startswith(PREFIX)
    return isinstance(value, str) and value.startswith(PREFIX)


def _batches(conn: sa.Connection, table: sa.Table, spec: SealedColumn, batch: int, after: Any) -> list[Any]:
    keys = list(table.primary_key.columns)
    columns = [*keys, table.c[spec.column]]
    if spec.only_restricted:
        columns.append(table.c.sensitivity)
    statement = sa.select(*columns).order_by(*keys).limit(batch)
    if after is not None:
        statement = statement.where(sa.tuple_(*keys) > sa.tuple_(*after))
    return list(conn.execute(statement).all())


def _walk(engine: sa.Engine, table: sa.Table, spec: SealedColumn, batch: int) -> Iterator[int]:
    """Seal one column batch by batch; yields how many values each committed batch sealed."""
    keys = list(table.primary_key.columns)
    after: tuple[Any, ...] | None = None
    while True:
        with engine.begin() as conn:
            fields: FieldCipher = cipher_of(conn)
            rows = _batches(conn, table, spec, batch, after)
            sealed = 0
            for row in rows:
                value = getattr(row, spec.column)
                if is_sealed(value, spec.json) or (spec.only_restricted and row.sensitivity != "restricted"):
                    continue
                new = fields.seal_json(value, spec.label) if spec.json else fields.seal(value, spec.label)
                where = [key == getattr(row, key.name) for key in keys]
                conn.execute(table.update().where(*where).values({spec.column: new}))
                sealed += 1
        yield sealed
        if len(rows) < batch:
            return
        after = tuple(getattr(rows[-1], key.name) for key in keys)


def seal_existing(
    engine: sa.Engine, batch: int | None = None, on_batch: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Seal every plaintext value of the sealed columns, `batch` rows (default DEFAULT_BATCH) per
    transaction; returns `{"table.column": values sealed}`. `engine` must carry an active field
    cipher (with_field_cipher)."""
    batch = batch or DEFAULT_BATCH
    with engine.connect() as conn:
        if not cipher_of(conn).active:
            raise ValueError("sealing existing values needs the archive's field cipher")
        existing = set(sa.inspect(conn).get_table_names())
        reflected = sa.MetaData()
        tables = {
            name: sa.Table(name, reflected, autoload_with=conn)
            for name in sorted({spec.table for spec in SEALED_COLUMNS} & existing)
        }
    done: dict[str, int] = {}
    for spec in SEALED_COLUMNS:
        table = tables.get(spec.table)
        if table is None or spec.column not in table.c:
            continue
        name = f"{spec.table}.{spec.column}"
        done[name] = 0
        for count in _walk(engine, table, spec, batch):
            done[name] += count
            if on_batch is not None:
                on_batch(name, count)
    return done


def restricted_records(engine: sa.Engine) -> dict[str, list[str]]:
    """The ids of restricted evidence items and incidents (their search entries are rebuilt
    after conversion: the index of an archive that seals fields holds no restricted plaintext)."""
    found: dict[str, list[str]] = {"evidence": [], "incident": []}
    with engine.connect().execution_options(hujjat_read_only=True) as conn:
        existing = set(sa.inspect(conn).get_table_names())
        for kind, name in (("evidence", "items"), ("incident", "incidents")):
            if name in existing:
                table = sa.Table(name, sa.MetaData(), autoload_with=conn)
                rows = conn.execute(sa.select(table.c.id).where(table.c.sensitivity == "restricted"))
                found[kind] = [str(r) for r in rows.scalars()]
    return found
