"""Accounts and access rules: who may do what, and who may see which record.

Roles are cumulative in intent but listed explicitly so a reader sees every right in one table:
admin (users, settings, everything else), editor (add evidence, create/edit/link incidents),
reviewer (verification decisions), viewer (read). Sensitivity is a separate axis: public and
internal records are visible to every signed-in user; restricted ones only to users granted
`restricted_access`, whatever their role (an admin grants it, to themselves too, and the grant is
a custody event). These rules live here so the web pages, the REST API and tests share one answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hujjat.domain.errors import HujjatError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
LANGUAGES = ("en", "ru")
TOKEN_PREFIX = "hjt_"


class AccountError(HujjatError):
    """An account value is invalid or an account action is refused."""


class AuthError(HujjatError):
    """Sign-in failed (the message never says which part was wrong)."""


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    REVIEWER = "reviewer"
    VIEWER = "viewer"


class Right(StrEnum):
    READ = "read"
    ADD_EVIDENCE = "add_evidence"
    EDIT_INCIDENTS = "edit_incidents"
    REVIEW = "review"
    EXPORT = "export"
    ADMIN = "admin"


RIGHTS: dict[Role, frozenset[Right]] = {
    Role.ADMIN: frozenset(Right),
    Role.EDITOR: frozenset({Right.READ, Right.ADD_EVIDENCE, Right.EDIT_INCIDENTS, Right.EXPORT}),
    Role.REVIEWER: frozenset({Right.READ, Right.REVIEW, Right.EXPORT}),
    Role.VIEWER: frozenset({Right.READ}),
}

SENSITIVITIES = ("public", "internal", "restricted")


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: Role
    password_hash: str
    restricted_access: bool = False
    totp_secret: str | None = None
    language: str = "en"
    timezone: str = "UTC"
    active: bool = True
    created_at: datetime | None = None

    def can(self, right: Right) -> bool:
        return self.active and right in RIGHTS[self.role]

    def can_view(self, sensitivity: str) -> bool:
        """Whether this user may see a record of that sensitivity (unknown levels count as restricted)."""
        if not self.active:
            return False
        if sensitivity in ("public", "internal"):
            return True
        return self.restricted_access

    def public(self) -> dict[str, object]:
        """What may be shown about an account (never the hash or the TOTP secret)."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "restricted_access": self.restricted_access,
            "totp": self.totp_secret is not None,
            "language": self.language,
            "timezone": self.timezone,
            "active": self.active,
        }


@dataclass(frozen=True)
class ApiToken:
    id: str
    user_id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class WebSession:
    id_hash: str
    user_id: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise AccountError(
            f"invalid role {value!r}; expected one of: {', '.join(r.value for r in Role)}"
        ) from None


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise AccountError(
            f"invalid user name {name!r}: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is too long: at most {MAX_PASSWORD} characters")
    return password


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise AccountError(f"unsupported language {language!r}; expected one of: {', '.join(LANGUAGES)}")
    return language


class Forbidden(HujjatError):
    """The signed-in user's role does not allow this action."""


def require(user: User, right: Right) -> None:
    if not user.can(right):
        raise Forbidden(f"the {user.role.value} role may not {right.value.replace('_', ' ')}")
