"""Sign-in, sessions and CSRF for the pages; bearer tokens for the API.

Sessions are server-side: the cookie holds a random id (HttpOnly, SameSite=Lax, Secure over
https), the database keeps only its hash, and a new id is issued at every sign-in so a planted id
is worthless (no fixation). Every state-changing form carries the session's CSRF token in a hidden
`csrf_token` field; the sign-in form, which has no session yet, uses a double-submit cookie.
Failed sign-ins are rate-limited per client address and per user name, with counters in the
database shared by every server process.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from hujjat.domain.accounts import AuthError, Forbidden, User
from hujjat.domain.errors import HujjatError
from hujjat.entrypoints.web.context import ctx_of, render
from hujjat.services.accounts import authenticate, end_session, session_user, start_session, token_user

SESSION_COOKIE = "hujjat_session"
LOGIN_CSRF_COOKIE = "hujjat_login_csrf"

router = APIRouter()


class LoginRequired(Exception):
    """No valid session: the page handler redirects to /login."""


class CsrfError(Forbidden):
    """The form's CSRF token is missing or wrong."""


class ApiAuthError(HujjatError):
    """No valid bearer token."""


def _secure(request: Request) -> bool:
    configured = ctx_of(request).secure_cookies
    return configured if configured is not None else request.url.scheme == "https"


def _session_id(request: Request) -> str:
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid or len(sid) >= 200:
        raise LoginRequired()
    return sid


def _signed_in(request: Request, sid: str) -> User:
    """The session's user read from the database (and kept in the process's session cache)."""
    ports = ctx_of(request).archive.ports
    found = ctx_of(request).sessions.read(sid, lambda: session_user(ports, sid))
    if found is None:
        raise LoginRequired()
    request.state.user, request.state.session = found
    return found[0]


async def page_user(request: Request) -> User:
    """Dependency of every page: the signed-in user (or a redirect to /login). A session in the
    process's cache (entrypoints.web.sessions) is answered here on the event loop, without a
    database transaction or a worker thread; otherwise it is read in a worker thread."""
    sid = _session_id(request)
    ctx = ctx_of(request)
    found = ctx.sessions.get(sid, ctx.archive.ports.clock.now())
    if found is None:
        return await run_in_threadpool(_signed_in, request, sid)
    request.state.user, request.state.session = found
    return found[0]


def check_csrf(request: Request, token: str) -> None:
    session = getattr(request.state, "session", None)
    if session is None or not token or not secrets.compare_digest(token.encode(), session.csrf_token.encode()):
        raise CsrfError("the form has expired or did not come from this site (CSRF check failed); reload and retry")


async def api_user(request: Request) -> User:
    """Dependency of every API route: the bearer token's user (kept per process like sessions)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token, ctx = token.strip(), ctx_of(request)
    user = None
    if scheme.lower() == "bearer" and token:
        user = ctx.tokens.get(token, ctx.archive.ports.clock.now())
        if user is None:
            user = await run_in_threadpool(ctx.tokens.read, token, lambda: token_user(ctx.archive.ports, token))
    if user is None:
        raise ApiAuthError("a valid bearer token is required (hujjat user token NAME)")
    request.state.user = user
    return user


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _login_page(request: Request, next_url: str, error: str | None, status: int = 200) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if len(token) < 20 or len(token) > 100:
        token = secrets.token_urlsafe(32)
    response = render(request, "login.html", status_code=status, csrf=token, next_url=next_url, error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/login")
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, safe_next(next), None)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    totp: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    ctx = ctx_of(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not csrf_token or not secrets.compare_digest(cookie.encode(), csrf_token.encode()):
        return _login_page(request, safe_next(next), "The form expired; please sign in again.", 403)
    client = f"ip:{request.client.host if request.client else '?'}"
    name_key = f"user:{username.strip().casefold()}"
    if ctx.limiter.blocked(ctx.archive.ports, client, name_key):
        return _login_page(request, safe_next(next), "Too many failed attempts; wait a few minutes.", 429)
    try:
        user = authenticate(ctx.archive.ports, ctx.creds, username.strip(), password, totp)
    except AuthError:
        ctx.limiter.failed(ctx.archive.ports, client, name_key)
        return _login_page(request, safe_next(next), "Wrong user name, password or code.", 401)
    session_id, _ = start_session(ctx.archive.ports, user, previous=request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="lax", secure=_secure(request),
                        path="/", max_age=12 * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    sid = _session_id(request)
    _signed_in(request, sid)
    check_csrf(request, csrf_token)
    end_session(ctx_of(request).archive.ports, sid)  # signals every process (sessions.py)
    ctx_of(request).sessions.forget(sid)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language/{code}", include_in_schema=False)
def choose_language(request: Request, code: str) -> Response:
    """The sign-in page's language (signed-in users choose theirs on /account)."""
    response = RedirectResponse("/login", status_code=303)
    if code in ("en", "ru"):
        response.set_cookie("hujjat_lang", code, samesite="lax", secure=_secure(request), max_age=365 * 86400)
    return response
