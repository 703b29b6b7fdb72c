"""All tables: imports every feature's table module so Alembic and tests see one MetaData."""

from hujjat.adapters.db.tables import metadata

__all__ = ["metadata"]
