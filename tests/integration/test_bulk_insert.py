"""adapters.db.bulk.insert_many stores exactly what SQLAlchemy's own insert stores (JSON, None,
time zones, large integers, Unicode), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hujjat.adapters.db import bulk
from hujjat.adapters.db.bulk import insert_absent_many, insert_many
from hujjat.adapters.db.engine import create_db_engine

meta = sa.MetaData()


def _table(name: str) -> sa.Table:
    return sa.Table(
        name,
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(26), nullable=False),
        sa.Column("big", sa.BigInteger),
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("doc", sa.JSON),
        sa.Column("text", sa.Text),
    )


by_core, by_bulk = _table("bulk_core"), _table("bulk_many")
keyed = _table("bulk_keyed")
keyed.append_constraint(sa.UniqueConstraint("key"))

ROWS: list[dict[str, Any]] = [
    {"key": "A", "big": 9882011936, "at": datetime(2023, 11, 15, 6, 0, tzinfo=UTC), "doc": [{"type": "hashtag", "text": "#Херсон"}], "text": "raid — 😢"},
    {"key": "B", "big": None, "at": None, "doc": None, "text": None},
    {"text": "keys in another order", "doc": {"n": "1.5", "nested": [1, None]}, "key": "C", "big": -1,
     "at": datetime(2020, 5, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=3)))},
]  # fmt: skip


@pytest.fixture
def engine(db_url: str | None, tmp_path: Path) -> sa.Engine:
    engine = create_db_engine(db_url or f"sqlite:///{tmp_path / 'bulk.db'}")
    meta.create_all(engine)
    return engine


def test_insert_many_stores_what_core_insert_stores(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(by_core.insert(), ROWS)
        insert_many(conn, by_bulk, ROWS)
        insert_many(conn, by_bulk, [])  # nothing to do
    with engine.connect() as conn:
        columns = ("key", "big", "at", "doc", "text")
        read = {t.name: conn.execute(sa.select(*(t.c[c] for c in columns)).order_by(t.c.id)).all() for t in (by_core, by_bulk)}
        raw = {t.name: conn.exec_driver_sql(f"SELECT key, big, at, doc, text FROM {t.name} ORDER BY id").all() for t in (by_core, by_bulk)}
    assert read["bulk_many"] == read["bulk_core"]
    assert [tuple(r) for r in raw["bulk_many"]] == [tuple(r) for r in raw["bulk_core"]]  # the same stored form
    assert read["bulk_many"][0].doc == [{"type": "hashtag", "text": "#Херсон"}]
    assert read["bulk_many"][2].big == -1 and read["bulk_many"][2].text == "keys in another order"


def test_insert_many_names_unknown_columns(engine: sa.Engine) -> None:
    with engine.begin() as conn, pytest.raises(KeyError, match="no column"):
        insert_many(conn, by_bulk, [{"key": "A", "colour": "red"}])


def test_insert_absent_many_skips_present_keys_and_stores_what_core_stores(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "MAX_PARAMETERS", 12)  # two rows a statement: the batch spans statements
    with engine.begin() as conn:
        conn.execute(by_core.insert(), ROWS)
        assert sorted(insert_absent_many(conn, keyed, ["key"], "key", ROWS[:2])) == ["A", "B"]
        again = [{**ROWS[0], "text": "not stored"}, ROWS[2], {**ROWS[1], "big": 7}]
        assert insert_absent_many(conn, keyed, ["key"], "key", again) == ["C"]
        assert insert_absent_many(conn, keyed, ["key"], "key", []) == []
    with engine.connect() as conn:
        columns = ("key", "big", "at", "doc", "text")
        read = {t.name: conn.execute(sa.select(*(t.c[c] for c in columns)).order_by(t.c.key)).all() for t in (by_core, keyed)}
    assert read["bulk_keyed"] == read["bulk_core"]
