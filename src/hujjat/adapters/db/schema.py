"""All tables: imports every feature's table module so Alembic and tests see one MetaData."""

from hujjat.adapters.db import accounts_tables  # noqa: F401
from hujjat.adapters.db import capture_tables  # noqa: F401
from hujjat.adapters.db import dedup_tables  # noqa: F401
from hujjat.adapters.db import incidents_tables  # noqa: F401
from hujjat.adapters.db import posts_tables  # noqa: F401
from hujjat.adapters.db import protection_tables  # noqa: F401
from hujjat.adapters.db import packages_tables  # noqa: F401
from hujjat.adapters.db import search_tables  # noqa: F401
from hujjat.adapters.db.tables import metadata

__all__ = ["metadata"]
