"""Engines for the embedded default (SQLite in WAL mode) and PostgreSQL, plus schema migration.

SQLite: pysqlite's own transaction handling is switched off and every transaction starts with
BEGIN IMMEDIATE, so concurrent `hujjat` processes queue for the write lock (busy_timeout) instead
of failing half-way with "database is locked" on upgrade from a read.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hujjat.domain.errors import ArchiveError

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_SECONDS = 60  # how long a statement waits for a lock another process holds
WEB_THREADS = 16  # pooled SQLite connections: a server process's request, export and job threads


def create_db_engine(url: str, sqlcipher_key: bytes | None = None) -> sa.Engine:
    """`sqlcipher_key`: open the SQLite file with SQLCipher under this raw 256-bit key (the
    protection feature's whole-database encryption, docs/protection.md)."""
    if url.startswith("sqlite"):
        extra: dict[str, Any] = {}
        if sqlcipher_key is not None:
            import sqlcipher3.dbapi2  # type: ignore[import-untyped]

            extra["module"] = sqlcipher3.dbapi2
        # pool_size: a web server's threads each hold a connection; beyond the pool,
        # connections were closed on check-in and reopened (with the PRAGMAs below) on every request.
        engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False},
                                  pool_size=WEB_THREADS, max_overflow=WEB_THREADS, **extra)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if sqlcipher_key is not None:
                cursor.execute(f"PRAGMA key = \"x'{sqlcipher_key.hex()}'\"")
            # Deleted content is overwritten in the file, not left in free pages (shredding).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            if conn.get_execution_options().get("hujjat_read_only", False):
                conn.exec_driver_sql("BEGIN")
            else:
                _begin_immediate(conn.connection.driver_connection, engine.dialect.loaded_dbapi.OperationalError)

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, pool_pre_ping=True)


def _begin_immediate(raw: Any, locked: type[Exception]) -> None:
    """BEGIN IMMEDIATE, retried every 0.1-2 ms while another process holds the write lock. SQLite's
    own busy handler sleeps 1, 2, 5, 10, 15 ... ms between tries, while a write transaction here
    holds the lock for well under a millisecond (WAL, synchronous=NORMAL): with two web server
    processes appending custody entries, a waiter slept through many free moments."""
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_SECONDS
        delay = 0.0001
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except locked as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(2 * delay, 0.002)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")


def _alembic_config(engine: sa.Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


_REVISION_RE = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']", re.M)
# down_revision and depends_on: Alembic keeps neither a revision's parents nor the revisions it
# depends on in alembic_version once it is applied.
_DOWN_RE = re.compile(r"^(?:down_revision|depends_on)\s*=\s*(.+)$", re.M)


def expected_heads() -> set[str]:
    """The head revisions of the migration scripts, read from the files without importing
    Alembic (0.4 s of start-up for every command otherwise); Alembic itself runs the upgrade."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if found := _REVISION_RE.search(text):
            revisions.add(found.group(1))
        for down in _DOWN_RE.finditer(text):
            parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1).split("#")[0]))
    return revisions - parents


def current_heads(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return set()
        return {row[0] for row in conn.execute(sa.text("SELECT version_num FROM alembic_version"))}


def upgrade_schema(engine: sa.Engine) -> None:
    """Bring the schema to every head (feature branches each add their own migrations)."""
    try:
        if current_heads(engine) != expected_heads():
            from alembic import command

            command.upgrade(_alembic_config(engine), "heads")
    except sa.exc.OperationalError as exc:
        raise ArchiveError(f"cannot open the database: {exc.orig}") from None
