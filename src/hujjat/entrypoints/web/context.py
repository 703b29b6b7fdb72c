"""What every request handler needs: the open archive, credentials, templates, the sign-in rate
limiter and the job queue, kept on `app.state.ctx`; and rendering with the user's language and
time zone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from hujjat.adapters.gazetteer import GeonamesGazetteer
from hujjat.adapters.taxonomy_file import load_taxonomy
from hujjat.bootstrap import Archive
from hujjat.domain.accounts import User
from hujjat.domain.errors import ArchiveError
from hujjat.domain.vocabulary import Taxonomy
from hujjat.entrypoints.web.i18n import Translator, translator
from hujjat.entrypoints.web.sessions import SessionCache, TokenCache
from hujjat.ports.accounts import Credentials
from hujjat.ports.places import PlaceResolver
from hujjat.services.accounts import LOGIN_LIMIT, LOGIN_WINDOW, count_failed_sign_in, sign_in_locked
from hujjat.services.checkpoints import sign_checkpoint
from hujjat.services.context import ArchivePorts

if TYPE_CHECKING:
    from hujjat.entrypoints.web.jobs import JobRunner

HERE = Path(__file__).resolve().parent
SIGN_EVERY_SECONDS = 30.0


class LoginLimiter:
    """At most `limit` failed sign-ins per client address and per user name in `window` seconds,
    then a lock-out of `window` seconds. The counters are in the archive's database, so they hold
    across server processes and restarts; `clock` (Unix seconds) is replaceable for tests."""

    def __init__(self, limit: int = LOGIN_LIMIT, window: float = LOGIN_WINDOW,
                 clock: Callable[[], float] = time.time) -> None:
        self.limit, self.window, self.clock = limit, window, clock

    def blocked(self, ports: ArchivePorts, *keys: str) -> bool:
        return sign_in_locked(ports, list(keys), self.clock())

    def failed(self, ports: ArchivePorts, *keys: str) -> None:
        count_failed_sign_in(ports, list(keys), self.clock(), self.limit, self.window)


@dataclass
class WebContext:
    archive: Archive
    creds: Credentials
    env: jinja2.Environment
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    jobs: JobRunner | None = None
    secure_cookies: bool | None = None  # None: Secure when the request came over https
    sessions: SessionCache = field(default_factory=lambda: SessionCache(None))
    tokens: TokenCache = field(default_factory=lambda: TokenCache(None))
    last_signed: float = 0.0
    sign_lock: threading.Lock = field(default_factory=threading.Lock)

    _taxonomy: Taxonomy | None = None
    _places: threading.local = field(default_factory=threading.local)

    def taxonomy(self) -> Taxonomy:
        if self._taxonomy is None:
            self._taxonomy = load_taxonomy(self.archive.config.root)
        return self._taxonomy

    def places(self) -> PlaceResolver | None:
        """The offline gazetteer, one per thread (its SQLite connection is not shared across
        threads); None when its package is missing (coordinates still work)."""
        local = self._places
        if not hasattr(local, "resolver"):
            try:
                local.resolver = GeonamesGazetteer()
            except ArchiveError:
                local.resolver = None
        resolver: PlaceResolver | None = local.resolver
        return resolver

    def sign_soon(self, force: bool = False) -> None:
        """Sign the custody head now and then (every change is already chained; the signature
        says the archive vouched for the head at that time)."""
        with self.sign_lock:
            if force or time.monotonic() - self.last_signed > SIGN_EVERY_SECONDS:
                sign_checkpoint(self.archive.ports)
                self.last_signed = time.monotonic()


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """Jinja2 with a faster `record.field` for the dicts most pages show: Jinja tries the attribute
    first and, for a dict, catches the AttributeError before looking the key up (about half the
    time of rendering a 50-row incident list). The answer is the same: a dict's own attributes
    (`get`, `items`...) still win over its keys."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def template_env() -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped unless a template marks it safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package: no stat() of every template per page
        cache_size=-1,
    )
    env.filters["size"] = human_size
    return env


def human_size(size: float | int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value} B"


def ctx_of(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.ctx
    return ctx


def _zone(user: User | None) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone if user else "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def date_formatter(user: User | None, tr: Translator) -> Any:
    zone = _zone(user)

    def fmt(value: object, with_time: bool = True) -> str:
        if value is None or value == "":
            return ""
        moment = value if isinstance(value, datetime) else None
        if moment is None and isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
        if moment is None:
            return str(value)
        if moment.tzinfo is None:
            return tr.date(moment, with_time=False)
        return tr.date(moment.astimezone(zone), with_time=with_time)

    return fmt


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    ctx = ctx_of(request)
    user: User | None = getattr(request.state, "user", None)
    session = getattr(request.state, "session", None)
    tr = translator(user.language if user else request.cookies.get("hujjat_lang", "en"))
    html = ctx.env.get_template(template).render(
        request=request, user=user, csrf=session.csrf_token if session else values.pop("csrf", ""),
        _=tr.gettext, lang=tr.language, fmt=date_formatter(user, tr), path=request.url.path, **values,
    )
    return HTMLResponse(html, status_code=status_code)
