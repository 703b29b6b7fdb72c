"""Account use cases: users, passwords, TOTP, API tokens and web sessions.

Secrets are never stored: passwords as argon2 hashes (via the Credentials port), API tokens and
session ids as SHA-256 digests, so a copy of the database lets nobody sign in. Account changes and
sign-ins are custody entries (who granted whom restricted access, and when, is evidence too);
failed sign-ins are not, so a flood of them cannot grow the log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hujjat.domain.accounts import (
    TOKEN_PREFIX,
    AccountError,
    ApiToken,
    AuthError,
    Role,
    User,
    WebSession,
    check_language,
    check_name,
    check_password,
    parse_role,
)
from hujjat.domain.errors import NotFound
from hujjat.domain.ids import new_id
from hujjat.ports.accounts import Credentials
from hujjat.services.context import ArchivePorts

SESSION_HOURS = 12
FIRST_ADMIN = "admin"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def as_user(ports: ArchivePorts, user: User) -> ArchivePorts:
    """The same ports acting as this user (custody entries name them)."""
    return replace(ports, actor=user.name)


def create_user(ports: ArchivePorts, creds: Credentials, name: str, role: str, password: str,
                restricted_access: bool = False, language: str = "en", timezone: str = "UTC") -> User:
    user = User(id=new_id(), name=check_name(name), role=parse_role(role),
                password_hash=creds.hash_password(check_password(password)),
                restricted_access=restricted_access, language=check_language(language), timezone=timezone,
                created_at=ports.clock.now())
    with ports.uow() as tx:
        if tx.accounts.user_by_name(user.name) is not None:
            raise AccountError(f"user {user.name!r} exists already")
        tx.accounts.add_user(user)
        tx.custody.append(ports.actor, "user.created", user.id,
                          {"name": user.name, "role": user.role.value, "restricted_access": restricted_access})
    return user


def create_first_admin(ports: ArchivePorts, creds: Credentials, name: str = FIRST_ADMIN) -> tuple[User, str] | None:
    """An admin with a random password (returned once, to be shown once) when there are no users."""
    with ports.uow(read_only=True) as tx:
        if tx.accounts.count_users():
            return None
    password = secrets.token_urlsafe(15)
    return create_user(ports, creds, name, Role.ADMIN.value, password, restricted_access=True), password


def get_user(ports: ArchivePorts, name: str) -> User:
    with ports.uow(read_only=True) as tx:
        user = tx.accounts.user_by_name(name)
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


def list_users(ports: ArchivePorts) -> list[User]:
    with ports.uow(read_only=True) as tx:
        return tx.accounts.users()


def update_user(ports: ArchivePorts, creds: Credentials, name: str, *, role: str | None = None,
                restricted_access: bool | None = None, active: bool | None = None,
                language: str | None = None, timezone: str | None = None,
                password: str | None = None) -> User:
    """Change an account; a new password, role or deactivation also ends its sessions."""
    changes: dict[str, Any] = {}
    if role is not None:
        changes["role"] = parse_role(role)
    if restricted_access is not None:
        changes["restricted_access"] = restricted_access
    if active is not None:
        changes["active"] = active
    if language is not None:
        changes["language"] = check_language(language)
    if timezone is not None:
        changes["timezone"] = timezone
    with ports.uow() as tx:
        user = tx.accounts.user_by_name(name)
        if user is None:
            raise NotFound(f"no user named {name!r}")
        updated = replace(user, **changes)
        if password is not None:
            updated = replace(updated, password_hash=creds.hash_password(check_password(password)))
        tx.accounts.save_user(updated)
        if password is not None or "role" in changes or active is False:
            tx.accounts.delete_user_sessions(user.id)
        shown = {k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()}
        if password is not None:
            shown["password"] = "changed"
        tx.custody.append(ports.actor, "user.changed", user.id, {"name": user.name, "changes": shown})
    return updated


def set_totp(ports: ArchivePorts, creds: Credentials, user: User, secret: str | None, code: str = "") -> User:
    """Turn the second factor on (the code proves the user's app has the secret) or off (None)."""
    if secret is not None and not creds.verify_totp(secret, code):
        raise AccountError("the code does not match; check the clock of the device and try again")
    with ports.uow() as tx:
        updated = replace(user, totp_secret=secret)
        tx.accounts.save_user(updated)
        tx.custody.append(ports.actor, "user.totp", user.id, {"name": user.name, "enabled": secret is not None})
    return updated


def authenticate(ports: ArchivePorts, creds: Credentials, name: str, password: str, totp: str = "") -> User:
    """The user these credentials prove, or AuthError with one message for every failure."""
    with ports.uow(read_only=True) as tx:
        user = tx.accounts.user_by_name(name)
    failure = AuthError("wrong user name, password or code")
    if user is None:
        creds.hash_password("timing-equaliser")  # as slow as a real check, so names cannot be probed
        raise failure
    if not creds.verify_password(user.password_hash, password) or not user.active:
        raise failure
    if user.totp_secret is not None and not creds.verify_totp(user.totp_secret, totp):
        raise failure
    return user


def start_session(ports: ArchivePorts, user: User, previous: str | None = None) -> tuple[str, WebSession]:
    """A fresh session id (the old one, if any, is deleted: no session fixation) and its CSRF token."""
    session_id = secrets.token_urlsafe(32)
    now = ports.clock.now()
    session = WebSession(digest(session_id), user.id, secrets.token_urlsafe(32), now,
                         now + timedelta(hours=SESSION_HOURS))
    with ports.uow() as tx:
        if previous:
            tx.accounts.delete_session(digest(previous))
        tx.accounts.delete_expired_sessions(now)
        tx.accounts.add_session(session)
        tx.custody.append(user.name, "user.signed_in", user.id, {"name": user.name})
    return session_id, session


def session_user(ports: ArchivePorts, session_id: str) -> tuple[User, WebSession] | None:
    with ports.uow(read_only=True) as tx:
        found = tx.accounts.session_with_user(digest(session_id))
    if found is None:
        return None
    session, user = found
    if session.expires_at <= ports.clock.now() or not user.active:
        return None
    return user, session


def end_session(ports: ArchivePorts, session_id: str) -> None:
    with ports.uow() as tx:
        tx.accounts.delete_session(digest(session_id))


def issue_token(ports: ArchivePorts, name: str, label: str = "cli") -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user = get_user(ports, name)
    record = ApiToken(new_id(), user.id, label[:128], ports.clock.now())
    with ports.uow() as tx:
        tx.accounts.add_token(record, digest(token))
        tx.custody.append(ports.actor, "user.token_issued", user.id, {"name": user.name, "token": record.id})
    return token


def revoke_tokens(ports: ArchivePorts, name: str, token_id: str | None = None) -> int:
    user = get_user(ports, name)
    with ports.uow() as tx:
        count = tx.accounts.revoke_tokens(user.id, ports.clock.now(), token_id)
        tx.custody.append(ports.actor, "user.tokens_revoked", user.id,
                          {"name": user.name, "token": token_id, "count": count})
    return count


def token_user(ports: ArchivePorts, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with ports.uow(read_only=True) as tx:
        found = tx.accounts.token_owner(digest(token))
    if found is None or not found[1].active:
        return None
    return found[1]


LOGIN_LIMIT = 10  # failed sign-ins per key ...
LOGIN_WINDOW = 300.0  # ... within this many seconds; then locked out for as long


def sign_in_locked(ports: ArchivePorts, keys: list[str], now: float) -> bool:
    """Whether a sign-in for these keys (client address, user name) is refused for now. The
    counters live in the database, so every server process and a restarted one agree."""
    with ports.uow(read_only=True) as tx:
        return tx.accounts.login_locked(keys, now)


def count_failed_sign_in(ports: ArchivePorts, keys: list[str], now: float, limit: int = LOGIN_LIMIT,
                         window: float = LOGIN_WINDOW) -> None:
    """A failed sign-in: counted (not a custody entry: a flood of them must not grow the log)."""
    with ports.uow() as tx:
        tx.accounts.count_login_failure(keys, now, limit, window)
