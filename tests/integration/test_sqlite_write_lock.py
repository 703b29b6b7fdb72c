"""SQLite write transactions wait for another process's write lock and start soon after it is
released (adapters.db.engine._begin_immediate), with the busy timeout back in place after."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from hujjat.adapters.db.engine import BUSY_SECONDS, create_db_engine

HOLD = 0.24  # SQLite's own busy handler would try again at 0.228 s and then 0.328 s


def test_a_write_starts_soon_after_another_connection_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = create_db_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    released: list[float] = []

    def release() -> None:
        other.execute("COMMIT")
        released.append(time.monotonic())

    timer = threading.Timer(HOLD, release)
    timer.start()
    try:
        with engine.begin() as conn:
            started = time.monotonic()
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
            busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    finally:
        timer.join()
        other.close()
    assert released and started >= released[0]
    assert started - released[0] < 0.05
    assert busy == BUSY_SECONDS * 1000
    with engine.connect() as conn:
        assert sorted(conn.execute(sa.text("SELECT n FROM t")).scalars()) == [1, 2]
    engine.dispose()
