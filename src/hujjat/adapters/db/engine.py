"""Engines for the embedded default (SQLite in WAL mode) and PostgreSQL, plus schema migration.

SQLite: pysqlite's own transaction handling is switched off and every transaction starts with
BEGIN IMMEDIATE, so concurrent `hujjat` processes queue for the write lock (busy_timeout) instead
of failing half-way with "database is locked" on upgrade from a read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from hujjat.domain.errors import ArchiveError

MIGRATIONS = Path(__file__).with_name("migrations")


def create_db_engine(url: str, sqlcipher_key: bytes | None = None) -> sa.Engine:
    """`sqlcipher_key`: open the SQLite file with SQLCipher under this raw 256-bit key (the
    protection feature's whole-database encryption, docs/protection.md)."""
    if url.startswith("sqlite"):
        extra: dict[str, Any] = {}
        if sqlcipher_key is not None:
            import sqlcipher3.dbapi2  # type: ignore[import-untyped]

            extra["module"] = sqlcipher3.dbapi2
        engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False}, **extra)

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
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            read_only = conn.get_execution_options().get("hujjat_read_only", False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, pool_pre_ping=True)


def _alembic_config(engine: sa.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def schema_is_current(engine: sa.Engine) -> bool:
    script = ScriptDirectory.from_config(_alembic_config(engine))
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == set(script.get_heads())


def upgrade_schema(engine: sa.Engine) -> None:
    """Bring the schema to every head (feature branches each add their own migrations)."""
    try:
        if not schema_is_current(engine):
            command.upgrade(_alembic_config(engine), "heads")
    except sa.exc.OperationalError as exc:
        raise ArchiveError(f"cannot open the database: {exc.orig}") from None
