"""The application factory: opens the archive once, mounts pages, API and static assets, maps
errors to status codes, and adds the security headers every response carries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hujjat.bootstrap import open_archive
from hujjat.domain.accounts import AuthError, Forbidden
from hujjat.domain.errors import Ambiguous, HujjatError, NotFound
from hujjat.entrypoints.web import (
    api,
    auth,
    pages_admin,
    pages_evidence,
    pages_incidents,
    pages_more,
    pages_sources,
)
from hujjat.entrypoints.web.context import HERE, WebContext, render, template_env
from hujjat.entrypoints.web.threads import use_request_threads
from hujjat.ports.accounts import Credentials

CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
       "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
# The API docs page (FastAPI's Swagger UI) needs one inline script; its assets are local.
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'")


class SecurityHeaders:
    """Adds the security headers to every response and, after a successful state-changing
    request, signs the custody head now and then (before the response goes out). A plain ASGI
    middleware: Starlette's `@app.middleware("http")` runs each request through an extra task and
    stream, a large part of the cost of a small page."""

    def __init__(self, app: ASGIApp, ctx: WebContext) -> None:
        self.app, self.ctx = app, ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        changes = scope["method"] not in ("GET", "HEAD")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", DOCS_CSP if path == "/api/v1/docs" else CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if not path.startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
                if changes and message["status"] < 400:
                    await run_in_threadpool(self.ctx.sign_soon)  # database work stays off the event loop
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _status(exc: HujjatError) -> int:
    if isinstance(exc, NotFound | Ambiguous):
        return 404
    if isinstance(exc, auth.ApiAuthError | AuthError):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, pages_more.UploadTooLarge):
        return 413
    return 400


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(auth.LoginRequired)
    async def login_required(request: Request, exc: auth.LoginRequired) -> Response:
        return auth.login_redirect(request)

    @app.exception_handler(HujjatError)
    async def hujjat_error(request: Request, exc: HujjatError) -> Response:
        status = _status(exc)
        if request.url.path.startswith("/api/"):
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return JSONResponse({"error": str(exc)}, status_code=status, headers=headers)
        return render(request, "error.html", status_code=status, message=str(exc), status=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()]
        return JSONResponse({"error": "invalid request", "detail": detail}, status_code=422)


def create_app(root: Path, *, credentials: Credentials | None = None, run_jobs: bool = True,
               secure_cookies: bool | None = None, job_workers: int = 1) -> FastAPI:
    from hujjat.adapters.credentials import Argon2Credentials
    from hujjat.adapters.db.accounts_repository import accounts_signal
    from hujjat.entrypoints.web.jobs import JobRunner
    from hujjat.entrypoints.web.sessions import SessionCache, TokenCache

    archive = open_archive(root, actor="web")
    signal = accounts_signal(archive.engine, create=True)
    ctx = WebContext(archive, credentials or Argon2Credentials(), template_env(), secure_cookies=secure_cookies,
                     sessions=SessionCache(signal), tokens=TokenCache(signal))
    ctx.jobs = JobRunner(archive.config.root, ctx, immediate=not run_jobs, workers=job_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        use_request_threads()  # few: see entrypoints/web/threads.py
        ctx.jobs.start() if ctx.jobs else None
        try:
            yield
        finally:
            if ctx.jobs:
                ctx.jobs.stop()
            ctx.sign_soon(force=True)
            archive.close()

    app = FastAPI(title="Hujjat", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    _install_errors(app)

    app.add_middleware(SecurityHeaders, ctx=ctx)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, pages_more, pages_evidence, pages_incidents, pages_admin, pages_sources):
        # The routes themselves, not include_router: FastAPI re-checks every included router's
        # routes on each request to match it (a measurable share of a page's CPU time).
        app.router.routes.extend(module.router.routes)
    app.mount("/api/v1", api.build_api(ctx))
    return app


def app_from_env() -> FastAPI:
    """Factory for multi-process serving (`hujjat serve --workers N`): the archive comes from
    $HUJJAT_WEB_ARCHIVE, and only the first worker runs the job consumer."""
    import os

    root = Path(os.environ["HUJJAT_WEB_ARCHIVE"])
    jobs = os.environ.get("HUJJAT_WEB_JOBS", "1") == "1"
    return create_app(root, run_jobs=jobs)
