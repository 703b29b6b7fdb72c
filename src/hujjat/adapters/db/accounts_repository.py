"""SQL repository for accounts (implements ports.accounts.AccountRepository): users, API tokens,
web sessions, and the record-access queries of the web layer (paged item listing, the sensitivity
of items, posts, captures and incidents), and the signal that tells other processes that users
or sessions changed."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.accounts_tables import api_tokens, login_failures, users, web_sessions
from hujjat.adapters.db.field_cipher import CUSTODY_LABEL, cipher_of
from hujjat.adapters.db.tables import acquisitions, custody_entries, items, metadata
from hujjat.domain.accounts import ApiToken, Role, User, WebSession
from hujjat.ports.accounts import ItemPageQuery, ItemRow

ID_CHUNK = 500  # ids per IN (...) list
VIEWED = "record.viewed"
LEVEL_TABLES = {"item": "items", "post": "posts", "capture": "captures"}  # kinds whose level is set directly
# the tables of records with a sensitivity, by the kinds search hits name (domain.search.KINDS)
SENSITIVE_TABLES = {"evidence": "items", "incident": "incidents", "post": "posts", "capture": "captures"}


def _level_table(kind: str) -> sa.Table | None:
    """The table of a kind with its own sensitivity column (None where the feature is absent)."""
    name = LEVEL_TABLES.get(kind)
    return metadata.tables.get(name) if name else None


# Statements every page runs, built once: building a select and its cache key costs about three
# times as much as executing it on SQLite (60 vs 18 µs a statement, measured on the bench archive).
_c = custody_entries.c
_SESSION_WITH_USER = (
    sa.select(users, web_sessions.c.id_hash, web_sessions.c.csrf_token,
              web_sessions.c.created_at.label("session_created"), web_sessions.c.expires_at)
    .join_from(web_sessions, users, users.c.id == web_sessions.c.user_id)
    .where(web_sessions.c.id_hash == sa.bindparam("id_hash")))
_CUSTODY_COUNT = sa.select(sa.func.count()).select_from(custody_entries).where(
    _c.subject == sa.bindparam("subject"), _c.action == sa.bindparam("action"))


@functools.cache
def _custody_page_stmt(views: bool, before: bool) -> sa.Select[Any]:
    which = _c.action == VIEWED if views else sa.or_(_c.action < VIEWED, _c.action > VIEWED)
    stmt = sa.select(_c.seq, _c.hash, _c.body).where(_c.subject.in_(sa.bindparam("subjects", expanding=True)), which)
    if before:
        stmt = stmt.where(_c.seq < sa.bindparam("before"))
    return stmt.order_by(_c.seq.desc()).limit(sa.bindparam("limit", type_=sa.Integer))


@functools.cache
def _level_stmt(kind: str) -> sa.Select[Any] | None:
    table = _level_table(kind)
    return None if table is None else sa.select(table.c.sensitivity).where(table.c.id == sa.bindparam("id"))


@functools.cache
def _levels_stmt(name: str) -> sa.Select[Any] | None:
    table = metadata.tables.get(name)
    if table is None:
        return None
    return sa.select(table.c.id, table.c.sensitivity).where(table.c.id.in_(sa.bindparam("ids", expanding=True)))


_CHANGED = "hujjat_accounts_changed"  # on a pooled connection's info: signal again after its commit


def accounts_signal(engine: sa.Engine, create: bool = False) -> Path | None:
    """A file next to an SQLite database (`<database>-accounts`) that changes whenever a user,
    a session or a token is changed or ended, by any process on this host (web workers, the
    CLI): a server process may keep signed-in users in memory for as long as it does not
    change. None for other databases (nothing may be kept then), or when `create` cannot make it."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database + "-accounts")
    if create:
        try:
            with path.open("ab"):
                pass
        except OSError:
            return None
    return path


def accounts_version(path: Path) -> tuple[int, int, int] | None:
    """What the signal looks like now (None: missing or unreadable, so nothing may be kept)."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns


def _signal(path: Path) -> None:
    """One byte appended: the size grows with every change, so no two versions look alike."""
    with path.open("ab") as handle:
        handle.write(b".")


def _after_checkin(_dbapi_connection: Any, record: Any) -> None:
    path = record.info.pop(_CHANGED, None) if record is not None else None
    if path is not None:
        _signal(path)


def _accounts_changed(conn: sa.Connection) -> None:
    """Signal before the commit and again once the connection is back in the pool (after it):
    a process that read the old rows between the two drops them at the second signal."""
    path = accounts_signal(conn.engine)
    if path is None:
        return
    _signal(path)
    if not sa.event.contains(conn.engine, "checkin", _after_checkin):
        sa.event.listen(conn.engine, "checkin", _after_checkin)
    conn.info[_CHANGED] = path


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _user(row: Any) -> User:
    return User(
        id=row.id, name=row.name, role=Role(row.role), password_hash=row.password_hash,
        restricted_access=bool(row.restricted_access), totp_secret=row.totp_secret,
        language=row.language, timezone=row.timezone, active=bool(row.active),
        created_at=_aware(row.created_at),
    )


def _user_values(user: User) -> dict[str, Any]:
    return {
        "name": user.name, "role": user.role.value, "password_hash": user.password_hash,
        "restricted_access": user.restricted_access, "totp_secret": user.totp_secret,
        "language": user.language, "timezone": user.timezone, "active": user.active,
    }


def _token(row: Any) -> ApiToken:
    return ApiToken(row.id, row.user_id, row.label, _aware(row.created_at),
                    _aware(row.revoked_at) if row.revoked_at else None)


class SqlAccountRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add_user(self, user: User) -> None:
        self.conn.execute(users.insert().values(id=user.id, created_at=user.created_at, **_user_values(user)))

    def save_user(self, user: User) -> None:
        self.conn.execute(users.update().where(users.c.id == user.id).values(**_user_values(user)))
        _accounts_changed(self.conn)

    def user(self, user_id: str) -> User | None:
        row = self.conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def user_by_name(self, name: str) -> User | None:
        row = self.conn.execute(sa.select(users).where(users.c.name == name)).first()
        return _user(row) if row else None

    def users(self) -> list[User]:
        return [_user(r) for r in self.conn.execute(sa.select(users).order_by(users.c.name))]

    def count_users(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())

    def add_token(self, token: ApiToken, token_hash: str) -> None:
        self.conn.execute(api_tokens.insert().values(
            id=token.id, user_id=token.user_id, token_hash=token_hash, label=token.label,
            created_at=token.created_at, revoked_at=None))

    def token_owner(self, token_hash: str) -> tuple[ApiToken, User] | None:
        row = self.conn.execute(
            sa.select(api_tokens).where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None))
        ).first()
        if row is None:
            return None
        user = self.user(row.user_id)
        return (_token(row), user) if user else None

    def tokens(self, user_id: str) -> list[ApiToken]:
        rows = self.conn.execute(
            sa.select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id))
        return [_token(r) for r in rows]

    def revoke_tokens(self, user_id: str, at: datetime, token_id: str | None = None) -> int:
        stmt = api_tokens.update().where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        if token_id is not None:
            stmt = stmt.where(api_tokens.c.id == token_id)
        count = int(self.conn.execute(stmt.values(revoked_at=at)).rowcount)
        _accounts_changed(self.conn)
        return count

    def add_session(self, session: WebSession) -> None:
        self.conn.execute(web_sessions.insert().values(
            id_hash=session.id_hash, user_id=session.user_id, csrf_token=session.csrf_token,
            created_at=session.created_at, expires_at=session.expires_at))

    def session(self, id_hash: str) -> WebSession | None:
        row = self.conn.execute(sa.select(web_sessions).where(web_sessions.c.id_hash == id_hash)).first()
        if row is None:
            return None
        return WebSession(row.id_hash, row.user_id, row.csrf_token, _aware(row.created_at),
                          _aware(row.expires_at))

    def session_with_user(self, id_hash: str) -> tuple[WebSession, User] | None:
        """The session and its user in one query (every page asks for both)."""
        row = self.conn.execute(_SESSION_WITH_USER, {"id_hash": id_hash}).first()
        if row is None:
            return None
        session = WebSession(row.id_hash, row.id, row.csrf_token, _aware(row.session_created), _aware(row.expires_at))
        return session, _user(row)

    def delete_session(self, id_hash: str) -> None:
        self.conn.execute(web_sessions.delete().where(web_sessions.c.id_hash == id_hash))
        _accounts_changed(self.conn)

    def delete_expired_sessions(self, now: datetime) -> None:
        self.conn.execute(web_sessions.delete().where(web_sessions.c.expires_at <= now))

    def delete_user_sessions(self, user_id: str) -> None:
        self.conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))
        _accounts_changed(self.conn)

    def login_locked(self, keys: list[str], now: float) -> bool:
        found = self.conn.execute(sa.select(sa.func.count()).select_from(login_failures).where(
            login_failures.c.key.in_(keys), login_failures.c.locked_until > now)).scalar_one()
        return bool(found)

    def count_login_failure(self, keys: list[str], now: float, limit: int, window: float) -> None:
        """One failure for each key, atomically (an upsert: concurrent processes never lose a count);
        a key whose window has passed starts a new one; at `limit` failures it is locked for `window`."""
        t = login_failures
        cutoff = now - window
        dialect = self.conn.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
        self.conn.execute(t.delete().where(t.c.window_start < cutoff,
                                           sa.or_(t.c.locked_until.is_(None), t.c.locked_until < now)))
        for key in dict.fromkeys(keys):
            stmt = insert(t).values(key=key, failures=1, window_start=now, locked_until=None)
            stale = t.c.window_start < cutoff
            self.conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.key], set_={
                "failures": sa.case((stale, 1), else_=t.c.failures + 1),
                "window_start": sa.case((stale, now), else_=t.c.window_start),
            }))
        self.conn.execute(t.update().where(t.c.key.in_(keys), t.c.failures >= limit,
                                           sa.or_(t.c.locked_until.is_(None), t.c.locked_until <= now))
                          .values(locked_until=now + window))

    def item_sensitivity(self, item_id: str) -> str | None:
        return self.record_sensitivity("item", item_id)

    def record_sensitivity(self, kind: str, record_id: str) -> str | None:
        stmt = _level_stmt(kind)
        if stmt is None:
            return None
        value = self.conn.execute(stmt, {"id": record_id}).scalar_one_or_none()
        return str(value) if value is not None else None

    def record_sensitivities(self, ids: list[str], kinds: Collection[str] | None = None) -> dict[str, str]:
        found: dict[str, str] = {}
        wanted = list(dict.fromkeys(ids))
        names = set(SENSITIVE_TABLES.values()) if kinds is None else {SENSITIVE_TABLES.get(k) for k in kinds}
        for name in ("items", "incidents", "posts", "captures"):
            statement = _levels_stmt(name) if name in names else None
            for start in range(0, len(wanted), ID_CHUNK):
                chunk = [i for i in wanted[start:start + ID_CHUNK] if i not in found]
                if statement is None or not chunk:
                    continue
                found.update((str(i), str(level)) for i, level in self.conn.execute(statement, {"ids": chunk}))
        return found

    def set_item_sensitivity(self, item_id: str, level: str) -> None:
        self.set_record_sensitivity("item", item_id, level)

    def set_record_sensitivity(self, kind: str, record_id: str, level: str) -> None:
        table = _level_table(kind)
        if table is None:
            raise ValueError(f"records of kind {kind!r} have no sensitivity here")
        self.conn.execute(table.update().where(table.c.id == record_id).values(sensitivity=level))

    def page_items(self, query: ItemPageQuery) -> tuple[list[ItemRow], int]:
        conditions: list[Any] = []
        counting: list[Any] = []  # the same tests as the count makes them (the page reads in id order)
        sqlite = self.conn.dialect.name == "sqlite"
        if query.media_prefix:
            prefix = query.media_prefix.replace("%", "")
            if sqlite and prefix.isascii() and "_" not in prefix:
                # SQLite's LIKE ignores ASCII case and uses no index, so the count reads every row;
                # the same test on lower(media_type) with its range is answered by
                # ix_items_media_type_lower alone. The page keeps the plain LIKE: scanning the
                # primary key newest first stops after one page instead of sorting every match.
                low = sa.func.lower(items.c.media_type)
                counting += [low.between(prefix.lower() + "/", prefix.lower() + "0"), low.like(prefix.lower() + "/%")]
            else:
                counting.append(items.c.media_type.like(prefix + "/%"))
            conditions.append(items.c.media_type.like(prefix + "/%"))
        if query.sensitivities:
            # The count goes through ix_items_sensitivity_kind; the page must not (SQLite would sort
            # every visible row instead of reading the primary key newest first), hence `|| ''`.
            level = items.c.sensitivity.concat("") if sqlite else items.c.sensitivity
            conditions.append(level.in_(query.sensitivities))
            counting.append(items.c.sensitivity.in_(query.sensitivities))
        others: list[Any] = []
        if query.name_contains:
            pattern = "%" + query.name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            others.append(sa.exists().where(
                acquisitions.c.item_id == items.c.id,
                acquisitions.c.original_name.like(pattern, escape="\\")))
        name = (sa.select(sa.func.min(acquisitions.c.original_name))
                .where(acquisitions.c.item_id == items.c.id).scalar_subquery())
        stmt = (sa.select(items, name.label("name")).where(*conditions, *others)
                .order_by(items.c.id.desc()).offset(query.offset).limit(query.limit))
        rows = [
            ItemRow(r.id, r.sha256, r.size, r.media_type, _aware(r.created_at), r.sensitivity, r.name)
            for r in self.conn.execute(stmt)
        ]
        if not query.count:
            return rows, -1
        total = self.conn.execute(sa.select(sa.func.count()).select_from(items).where(*counting, *others)).scalar_one()
        return rows, int(total)

    def recent_custody(self, limit: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            sa.select(custody_entries.c.seq, custody_entries.c.body)
            .order_by(custody_entries.c.seq.desc()).limit(limit))
        fields = cipher_of(self.conn)
        return [{"seq": r.seq, **json.loads(fields.open_(r.body, CUSTODY_LABEL) or "{}")} for r in rows]

    def custody_page(self, subject: str, views: bool, before: int | None, limit: int,
                     also: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Newest first, below seq `before`: the subject's `record.viewed` entries (`views`) or all
        its others (and those of the subjects `also`, e.g. the import batch that added a post).
        Both read ix_custody_subject_action_seq (web_0004): the others as the two action ranges
        either side of `record.viewed`, so thousands of views are never read."""
        params: dict[str, Any] = {"subjects": [subject, *also], "limit": limit}
        if before is not None:
            params["before"] = before
        fields = cipher_of(self.conn)
        rows = self.conn.execute(_custody_page_stmt(views, before is not None), params)
        return [{**json.loads(fields.open_(r.body, CUSTODY_LABEL) or "{}"), "seq": r.seq, "hash": r.hash} for r in rows]

    def custody_count(self, subject: str, action: str) -> int:
        return int(self.conn.execute(_CUSTODY_COUNT, {"subject": subject, "action": action}).scalar_one())

    def table_counts(self, names: tuple[str, ...], levels: tuple[str, ...] = ()) -> dict[str, int]:
        """Row counts of the named tables that exist in this installation; tables with a
        sensitivity column count only rows at `levels` when given."""
        counts: dict[str, int] = {}
        for name in names:
            table = metadata.tables.get(name)
            if table is not None:
                stmt = sa.select(sa.func.count()).select_from(table)
                if levels and "sensitivity" in table.c:
                    stmt = stmt.where(table.c.sensitivity.in_(levels))
                counts[name] = int(self.conn.execute(stmt).scalar_one())
        return counts
