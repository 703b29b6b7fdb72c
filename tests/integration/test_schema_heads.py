"""Opening an up-to-date archive must not run (or even import) Alembic: `expected_heads`, read
from the migration files, has to equal what Alembic leaves in alembic_version after upgrading to
every head, on both backends (a `depends_on` revision is not kept there either)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hujjat.adapters.db.engine import create_db_engine, current_heads, expected_heads, upgrade_schema


def test_upgraded_schema_has_exactly_the_expected_heads(db_url: str | None, tmp_path: Path) -> None:
    engine = create_db_engine(db_url or f"sqlite:///{tmp_path / 'h.db'}", None)
    try:
        upgrade_schema(engine)
        assert current_heads(engine) == expected_heads()
    finally:
        engine.dispose()


def test_opening_an_up_to_date_archive_does_not_import_alembic(sqlite_archive: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from hujjat.bootstrap import open_archive\n"
        "open_archive(Path(sys.argv[1])).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(sqlite_archive)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
