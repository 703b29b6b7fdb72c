"""Signed-in users (by session id) and API token owners kept in memory per server process, so
that a page or API call does not open a database transaction (and a worker thread) just to learn
who is asking.

Sign-out, revocation and changes to an account must still count at once, in every process: the
accounts repository changes a signal file next to the SQLite database whenever a user, session or
token changes (adapters.db.accounts_repository.accounts_signal), and these caches forget everything
as soon as the file looks different. Each request costs one stat() instead of a transaction. An
entry read while the file changed is not kept. Where there is no signal (PostgreSQL, whose
servers may be on other hosts), nothing is kept and every request reads the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

from hujjat.adapters.db.accounts_repository import accounts_version
from hujjat.domain.accounts import User, WebSession

Found = tuple[User, WebSession]
MAX_ENTRIES = 10_000
T = TypeVar("T")


class _Kept(Generic[T]):
    """Answers by key (a session id or token), kept while the signal does not change."""

    def __init__(self, signal: Path | None) -> None:
        self.signal = signal
        self._lock = threading.Lock()
        self._entries: dict[str, T] = {}
        self._version: tuple[int, int, int] | None = None

    def _current(self) -> tuple[int, int, int] | None:
        """The signal's version; a change (or no signal) empties the cache."""
        version = accounts_version(self.signal) if self.signal is not None else None
        if version != self._version or version is None:
            with self._lock:
                self._entries.clear()
                self._version = version
        return version

    def _valid(self, found: T, now: datetime) -> bool:
        return True

    def get(self, key: str, now: datetime) -> T | None:
        """The kept answer, if any and still valid."""
        if self._current() is None:
            return None
        found = self._entries.get(key)
        if found is None or not self._valid(found, now):
            return None
        return found

    def read(self, key: str, load: Callable[[], T | None]) -> T | None:
        """`load` the answer from the database, keeping it when the signal did not change while it
        was read."""
        before = self._current()
        found = load()
        if found is None or before is None or self._current() != before:
            return found
        with self._lock:
            if self._version == before:  # no other thread saw a newer version meanwhile
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = found
        return found

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class SessionCache(_Kept[Found]):
    """Session id -> (user, session); a session's expiry is checked on every use."""

    def _valid(self, found: Found, now: datetime) -> bool:
        return found[1].expires_at > now


class TokenCache(_Kept[User]):
    """API token -> its user (tokens do not expire; revoking them changes the signal)."""
