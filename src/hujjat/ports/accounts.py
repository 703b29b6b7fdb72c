"""Ports for accounts: users, API tokens, web sessions, and the record-access queries the web
layer needs (paged evidence listing, an item's sensitivity); plus the credential checker
(password hashing and TOTP) that bootstrap provides."""

from __future__ import annotations

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

    def delete_session(self, id_hash: str) -> None: ...

    def delete_user_sessions(self, user_id: str) -> None: ...

    def delete_expired_sessions(self, now: datetime) -> None: ...

    def item_sensitivity(self, item_id: str) -> str | None: ...

    def record_sensitivities(self, ids: list[str]) -> dict[str, str]:
        """The sensitivity of each id that names an evidence item or (where the incidents table
        exists) an incident, item first; other ids are absent. One query per table, not per id."""
        ...

    def set_item_sensitivity(self, item_id: str, level: str) -> None: ...

    def page_items(self, query: ItemPageQuery) -> tuple[list[ItemRow], int]:
        """One page of items (newest first) and the total matching the filters."""
        ...

    def recent_custody(self, limit: int) -> list[dict[str, object]]:
        """The newest custody entries, newest first, as {seq, time, actor, action, subject, details}."""
        ...

    def table_counts(self, names: tuple[str, ...], levels: tuple[str, ...] = ()) -> dict[str, int]: ...


class Credentials(Protocol):
    def hash_password(self, password: str) -> str: ...

    def verify_password(self, password_hash: str, password: str) -> bool: ...

    def new_totp_secret(self) -> str: ...

    def verify_totp(self, secret: str, code: str) -> bool: ...

    def totp_uri(self, secret: str, name: str, issuer: str) -> str: ...
