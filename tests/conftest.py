"""Shared fixtures: archives on SQLite and on the real PostgreSQL server, and an in-process CLI.

Every test that takes `db_url` (directly or through `archive`) runs once per backend; the
PostgreSQL run gets a fresh database of its own and is skipped only when no server answers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from hujjat.entrypoints.cli.main import main

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
PG_SERVER = os.environ.get("HUJJAT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")

_pg_available: bool | None = None


def _admin_engine() -> sa.Engine:
    url = PG_SERVER.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres"
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


def pg_available() -> bool:
    global _pg_available
    if _pg_available is None:
        try:
            engine = _admin_engine()
            with engine.connect():
                pass
            engine.dispose()
            _pg_available = True
        except Exception:  # noqa: BLE001
            _pg_available = False
    return _pg_available


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """One migrated, empty database per test process: copying it (CREATE DATABASE ... TEMPLATE)
    is ten times faster than running every feature's migrations for each test."""
    from hujjat.adapters.db.engine import create_db_engine, upgrade_schema

    if not pg_available():
        pytest.skip("no PostgreSQL server answers on " + PG_SERVER)
    name = f"hujjat_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = create_db_engine(f"{PG_SERVER}/{name}")
    upgrade_schema(engine)
    engine.dispose()
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_database(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database with the current schema and no rows; its URL in the form users
    write in hujjat.toml."""
    name = "hujjat_test_" + uuid.uuid4().hex[:12]
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None means the embedded default (SQLite inside the archive folder)."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("pg_database"))


@dataclass
class CliResult:
    code: int
    out: str
    err: str


class Cli:
    """Runs `hujjat` in-process against one archive, capturing its output."""

    def __init__(self, capsys: pytest.CaptureFixture[str], archive: Path | None) -> None:
        self.capsys = capsys
        self.archive = archive

    def __call__(self, *args: str, archive: bool = True) -> CliResult:
        argv = list(args)
        if archive and self.archive is not None and "--archive" not in argv:
            argv += ["--archive", str(self.archive)]
        self.capsys.readouterr()
        code = main(argv)
        captured = self.capsys.readouterr()
        return CliResult(code, captured.out, captured.err)


@pytest.fixture
def archive(tmp_path: Path, db_url: str | None, capsys: pytest.CaptureFixture[str]) -> Path:
    """An initialised archive folder, on each database backend."""
    root = tmp_path / "archive"
    args = ["init", str(root)]
    if db_url:
        args += ["--database", db_url]
    assert main(args) == 0, capsys.readouterr().err
    capsys.readouterr()
    return root


@pytest.fixture
def sqlite_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """An initialised archive on the embedded default only (for tests about files, not SQL)."""
    root = tmp_path / "archive"
    assert main(["init", str(root)]) == 0
    capsys.readouterr()
    return root


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest) -> Cli:
    root = None
    for name in ("archive", "sqlite_archive"):
        if name in request.fixturenames:
            root = request.getfixturevalue(name)
            break
    return Cli(capsys, root)
