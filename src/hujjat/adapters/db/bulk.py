"""Many-row INSERTs without SQLAlchemy's per-row parameter processing.

`conn.execute(table.insert(), rows)` builds, for every row, a dictionary of every bound parameter
and runs each column type's bind processor through it; for the Telegram importer's post rows
(31 columns, 100,000 rows) that was about half the cost of writing them. `insert_many` sends the
same values, converted by the same bind processors (JSON serialised, dates formatted the way the
dialect stores them), as one DB-API `executemany` of a plain positional INSERT. The statement and
the processors are prepared once per table, dialect and column set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
# parameters in one statement: SQLite (3.32+) binds up to 32,766, PostgreSQL 65,535
MAX_PARAMETERS = 30_000

Processor = Callable[[Any], Any]
_Plan = tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]], list[tuple[int, Processor]]]
_plans: dict[tuple[str, str, tuple[str, ...]], _Plan] = {}


def _plan(dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...]) -> _Plan:
    key = (table.name, dialect.name, names)
    plan = _plans.get(key)
    if plan is None:
        columns = [c for c in table.columns if c.name in names]
        if len(columns) != len(names):
            unknown = set(names) - {c.name for c in columns}
            raise KeyError(f"{table.name} has no column(s) {sorted(unknown)}")
        quote = dialect.identifier_preparer.quote
        marker = _PLACEHOLDERS[dialect.paramstyle]
        # only the table's own (quoted) names go into the text; every value is bound
        names_sql, markers = ", ".join(quote(c.name) for c in columns), ", ".join(marker for _ in columns)
        sql = f"INSERT INTO {quote(table.name)} ({names_sql}) VALUES ({markers})"  # noqa: S608
        getter = itemgetter(*(c.name for c in columns))
        row_of: Callable[[dict[str, Any]], tuple[Any, ...]] = (
            getter if len(columns) > 1 else (lambda row: (getter(row),))
        )
        processors: list[tuple[int, Processor]] = [
            (index, processor)
            for index, column in enumerate(columns)
            if (processor := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        plan = (sql, row_of, processors)
        _plans[key] = plan
    return plan


def _values(plan: _Plan, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row's values in the statement's column order, through the columns' bind processors."""
    _, row_of, processors = plan
    if not processors:
        return [row_of(row) for row in rows]
    values: list[tuple[Any, ...]] = []
    for row in rows:
        converted = list(row_of(row))
        for index, processor in processors:
            converted[index] = processor(converted[index])
        values.append(tuple(converted))
    return values


def insert_many(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (dictionaries with the same keys, column names of `table`) in one executemany.
    Dialects with another parameter style go through SQLAlchemy's own insert."""
    if not rows:
        return
    if conn.dialect.paramstyle not in _PLACEHOLDERS:
        conn.execute(table.insert(), list(rows))
        return
    plan = _plan(conn.dialect, table, tuple(rows[0]))
    conn.exec_driver_sql(plan[0], _values(plan, rows))


def insert_absent_many(
    conn: sa.Connection, table: sa.Table, unique: Sequence[str], returning: str, rows: Sequence[dict[str, Any]]
) -> list[Any]:
    """INSERT ... ON CONFLICT (`unique`) DO NOTHING RETURNING `returning` of `rows` (same keys,
    column names of `table`), as multi-row VALUES statements of positional parameters: what
    SQLAlchemy's insertmanyvalues sends for an insert with RETURNING, without its per-row parameter
    dictionaries. SQLite 3.35+ and PostgreSQL. Returns the `returning` values of the rows that
    went in (skipped rows return nothing)."""
    if not rows:
        return []
    if conn.dialect.paramstyle not in _PLACEHOLDERS:
        raise NotImplementedError(f"unsupported parameter style {conn.dialect.paramstyle}")
    plan = _plan(conn.dialect, table, tuple(rows[0]))
    quote = conn.dialect.identifier_preparer.quote
    head, _, markers = plan[0].partition(" VALUES ")
    tail = f" ON CONFLICT ({', '.join(quote(c) for c in unique)}) DO NOTHING RETURNING {quote(returning)}"
    per_statement = max(1, MAX_PARAMETERS // len(rows[0]))
    values = _values(plan, rows)
    went_in: list[Any] = []
    for start in range(0, len(values), per_statement):
        part = values[start : start + per_statement]
        sql = head + " VALUES " + ", ".join(markers for _ in part) + tail
        went_in.extend(row[0] for row in conn.exec_driver_sql(sql, tuple(v for row in part for v in row)))
    return went_in
