"""Ports for accounts: users, API tokens, web sessions, and the record-access queries the web
layer needs (paged evidence listing, an item's sensitivity); plus the credential checker
(password hashing and TOTP) that bootstrap provides."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hujjat.domain.accounts import ApiToken, User, WebSession


@dataclass(frozen=True)
class ItemPageQuery:
    offset: int = 0
    limit: int = 50
    media_prefix: str | None = None  # "image", "video", "text"...
    sensitivities: tuple[str, ...] = ()  # empty: all
    name_contains: str | None = None
    count: bool = True  # False: the total is not counted (returned as -1)


@dataclass(frozen=True)
class ItemRow:
    id: str
    sha256: str
    size: int
    media_type: str
    created_at: datetime
    sensitivity: str
    name: str | None


class AccountRepository(Protocol):
    def add_user(self, user: User) -> None: ...

    def save_user(self, user: User) -> None: ...

    def user(self, user_id: str) -> User | None: ...

    def user_by_name(self, name: str) -> User | None: ...

    def users(self) -> list[User]: ...

    def count_users(self) -> int: ...

    def add_token(self, token: ApiToken, token_hash: str) -> None: ...

    def token_owner(self, token_hash: str) -> tuple[ApiToken, User] | None:
        """The live (unrevoked) token with that hash and its user."""
        ...

    def tokens(self, user_id: str) -> list[ApiToken]: ...

    def revoke_tokens(self, user_id: str, at: datetime, token_id: str | None = None) -> int: ...

    def add_session(self, session: WebSession) -> None: ...

    def session(self, id_hash: str) -> WebSession | None: ...

    def session_with_user(self, id_hash: str) -> tuple[WebSession, User] | None: ...

    def delete_session(self, id_hash: str) -> None: ...

    def delete_user_sessions(self, user_id: str) -> None: ...

    def delete_expired_sessions(self, now: datetime) -> None: ...

    def login_locked(self, keys: list[str], now: float) -> bool:
        """Whether any of the keys (`ip:ADDRESS`, `user:NAME`) is locked out at `now` (Unix seconds)."""
        ...

    def count_login_failure(self, keys: list[str], now: float, limit: int, window: float) -> None:
        """Count one failed sign-in for each key; lock a key for `window` seconds once it has
        `limit` failures within one window."""
        ...

    def item_sensitivity(self, item_id: str) -> str | None: ...

    def record_sensitivity(self, kind: str, record_id: str) -> str | None:
        """The level of one item, post or capture (`kind`); None when there is no such record."""
        ...

    def record_sensitivities(self, ids: list[str], kinds: Collection[str] | None = None) -> dict[str, str]:
        """The sensitivity of each id that names an evidence item, an incident, a post or a capture
        (where those tables exist); other ids are absent. One query per table, not per id; with
        `kinds` (search kinds: evidence, incident, post, capture) only those kinds' tables."""
        ...

    def set_item_sensitivity(self, item_id: str, level: str) -> None: ...

    def set_record_sensitivity(self, kind: str, record_id: str, level: str) -> None:
        """Set the level of an item, post or capture (`kind`)."""
        ...

    def page_items(self, query: ItemPageQuery) -> tuple[list[ItemRow], int]:
        """One page of items (newest first) and the total matching the filters."""
        ...

    def recent_custody(self, limit: int) -> list[dict[str, object]]:
        """The newest custody entries, newest first, as {seq, time, actor, action, subject, details}."""
        ...

    def custody_page(self, subject: str, views: bool, before: int | None, limit: int,
                     also: tuple[str, ...] = ()) -> list[dict[str, object]]:
        """A page of one record's custody trail, newest first, below seq `before`: only its
        `record.viewed` entries (`views`) or only the others (with those of the subjects `also`);
        entries as recent_custody gives them."""
        ...

    def custody_count(self, subject: str, action: str) -> int: ...

    def table_counts(self, names: tuple[str, ...], levels: tuple[str, ...] = ()) -> dict[str, int]: ...


class Credentials(Protocol):
    def hash_password(self, password: str) -> str: ...

    def verify_password(self, password_hash: str, password: str) -> bool: ...

    def new_totp_secret(self) -> str: ...

    def verify_totp(self, secret: str, code: str) -> bool: ...

    def totp_uri(self, secret: str, name: str, issuer: str) -> str: ...
