"""All tables: imports every feature's table module so Alembic and tests see one MetaData."""

from hujjat.adapters.db import (
    accounts_tables,  # noqa: F401
    capture_tables,  # noqa: F401
    dedup_tables,  # noqa: F401
    incidents_tables,  # noqa: F401
    packages_tables,  # noqa: F401
    posts_tables,  # noqa: F401
    protection_tables,  # noqa: F401
    search_tables,  # noqa: F401
)
from hujjat.adapters.db.tables import metadata

__all__ = ["metadata"]
