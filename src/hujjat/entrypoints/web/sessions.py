"""Signed-in users kept in memory per server process, so that a page does not open a database
transaction (and a worker thread) just to learn who is asking.

Sign-out, revocation and changes to an account must still count at once, in every process: the
accounts repository changes a signal file next to the SQLite database whenever a user, session or
token changes (adapters.db.accounts_repository.accounts_signal), and this cache forgets everything
as soon as the file looks different. Each request costs one stat() instead of a transaction. An
entry read while the file changed is not kept. Where there is no signal (PostgreSQL, whose
servers may be on other hosts), nothing is kept and every request reads the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from hujjat.adapters.db.accounts_repository import accounts_version
from hujjat.domain.accounts import User, WebSession

Found = tuple[User, WebSession]
MAX_ENTRIES = 10_000


class SessionCache:
    def __init__(self, signal: Path | None) -> None:
        self.signal = signal
        self._lock = threading.Lock()
        self._entries: dict[str, Found] = {}
        self._version: tuple[int, int, int] | None = None

    def _current(self) -> tuple[int, int, int] | None:
        """The signal's version; a change (or no signal) empties the cache."""
        version = accounts_version(self.signal) if self.signal is not None else None
        if version != self._version or version is None:
            with self._lock:
                self._entries.clear()
                self._version = version
        return version

    def get(self, session_id: str, now: datetime) -> Found | None:
        """The cached user and session, if still valid (expiry is checked on every use)."""
        if self._current() is None:
            return None
        found = self._entries.get(session_id)
        if found is None or found[1].expires_at <= now:
            return None
        return found

    def read(self, session_id: str, load: Callable[[], Found | None]) -> Found | None:
        """`load` the session from the database, keeping the answer when the signal did not change
        while it was read."""
        before = self._current()
        found = load()
        if found is None or before is None or self._current() != before:
            return found
        with self._lock:
            if self._version == before:  # no other thread saw a newer version meanwhile
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[session_id] = found
        return found

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._entries.pop(session_id, None)
