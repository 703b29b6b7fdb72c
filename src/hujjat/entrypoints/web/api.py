"""The REST API under /api/v1: the same services and the same access rules as the pages, bearer
tokens (`hujjat user token NAME`) instead of cookies (so no CSRF surface), JSON errors
({"error": ...}), OpenAPI at /api/v1/openapi.json and Swagger UI (served locally) at /api/v1/docs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from hujjat.domain.accounts import SENSITIVITIES, AuthError, Forbidden, Right, User, require
from hujjat.domain.errors import Ambiguous, HujjatError, NotFound
from hujjat.domain.search import KINDS as SEARCH_KINDS
from hujjat.domain.verification import State
from hujjat.entrypoints.web.auth import ApiAuthError, api_user
from hujjat.entrypoints.web.context import WebContext, ctx_of
from hujjat.entrypoints.web.pages_evidence import KINDS, checked_id
from hujjat.ports.accounts import ItemPageQuery
from hujjat.ports.incidents import IncidentFilter
from hujjat.ports.search import SearchFilters
from hujjat.services.access import (
    CUSTODY_PAGE,
    check_level,
    custody_trail,
    page_incidents,
    page_items,
    set_sensitivity,
    view_capture,
    view_incident,
    view_item,
    view_post,
    visible_captures,
    visible_posts,
    visible_search,
)
from hujjat.services.accounts import as_user
from hujjat.services.incidents import IncidentFields, create_incident

CUSTODY_LIMIT = 500
bearer = HTTPBearer(auto_error=False, description="A token from `hujjat user token NAME`.")


async def _user(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> User:
    return await api_user(request)


UserDep = Annotated[User, Depends(_user)]


class IncidentIn(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    type: str = Field(min_length=1, max_length=60, description="Type id from the taxonomy.")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")
    place: str | None = Field(default=None, max_length=300, description="Place name (offline gazetteer).")
    latitude: str | None = Field(default=None, max_length=30)
    longitude: str | None = Field(default=None, max_length=30)
    subtype: str | None = Field(default=None, max_length=60)
    description: str | None = Field(default=None, max_length=20000)
    sensitivity: str = Field(default="internal", pattern="^(public|internal|restricted)$")


class SensitivityIn(BaseModel):
    level: str = Field(pattern="^(public|internal|restricted)$", description="public, internal or restricted")


def _status(exc: HujjatError) -> int:
    if isinstance(exc, NotFound | Ambiguous):
        return 404
    if isinstance(exc, ApiAuthError | AuthError):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    return 400


def _item_row(row: Any) -> dict[str, Any]:
    return {"id": row.id, "sha256": row.sha256, "size": row.size, "media_type": row.media_type,
            "created_at": row.created_at.isoformat(), "sensitivity": row.sensitivity, "name": row.name}


def build_api(ctx: WebContext) -> FastAPI:
    api = FastAPI(title="Hujjat API", version="1", docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    api.state.ctx = ctx

    @api.exception_handler(HujjatError)
    async def error(request: Request, exc: HujjatError) -> Response:
        status = _status(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": str(exc)}, status_code=status, headers=headers)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
        return JSONResponse({"error": "invalid request", "detail": detail}, status_code=422)

    @api.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/v1/openapi.json", title="Hujjat API",
                                   swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")

    @api.get("/evidence", summary="List evidence items the caller may see (newest first)")
    def evidence(request: Request, user: UserDep,
                 kind: Annotated[str | None, Query(max_length=20)] = None,
                 sensitivity: Annotated[str | None, Query(max_length=20)] = None,
                 offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
        query = ItemPageQuery(offset=offset, limit=limit, media_prefix=kind if kind in KINDS else None,
                              sensitivities=(sensitivity,) if sensitivity in SENSITIVITIES else ())
        rows, total = page_items(ctx_of(request).archive.ports, user, query, via="api")
        return {"total": total, "items": [_item_row(r) for r in rows]}

    @api.get("/evidence/{item_id}", summary="One evidence item: hashes, metadata, acquisitions, the first page of "
             "its custody trail")
    def evidence_item(request: Request, item_id: str, user: UserDep) -> dict[str, Any]:
        return view_item(ctx_of(request).archive.ports, user, checked_id(item_id), via="api")

    @api.get("/incidents", summary="List incidents the caller may see")
    def incidents(request: Request, user: UserDep,
                  state: Annotated[str | None, Query(max_length=20)] = None,
                  type: Annotated[str | None, Query(max_length=60)] = None,
                  offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        states = (state,) if state in {s.value for s in State} else ()
        records, total = page_incidents(ctx_of(request).archive.ports, user, IncidentFilter(states=states, type=type),
                                        offset, limit, via="api")
        return {"total": total, "incidents": records}

    @api.post("/incidents", status_code=201, summary="Create an incident (editor or admin)")
    def incident_create(request: Request, body: IncidentIn, user: UserDep) -> dict[str, Any]:
        require(user, Right.EDIT_INCIDENTS)
        check_level(user, body.sensitivity)
        ctx = ctx_of(request)
        fields = IncidentFields(title=body.title, type=body.type, date=body.date, place=body.place,
                                latitude=body.latitude, longitude=body.longitude, subtype=body.subtype,
                                description=body.description, sensitivity=body.sensitivity)
        return create_incident(as_user(ctx.archive.ports, user), ctx.taxonomy(), ctx.places(), fields)

    @api.get("/incidents/{incident_id}", summary="One incident with links, reviews, history and the first page of "
             "its custody trail")
    def incident(request: Request, incident_id: str, user: UserDep) -> dict[str, Any]:
        return view_incident(ctx_of(request).archive.ports, user, checked_id(incident_id), via="api")

    @api.get("/search", summary="Full-text search (query language: docs/search.md)")
    def search(request: Request, user: UserDep, q: Annotated[str, Query(min_length=1, max_length=1000)],
               kind: Annotated[str | None, Query(max_length=20)] = None,
               offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
               limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
        filters = SearchFilters(include={"kind": [kind]}) if kind in SEARCH_KINDS else None
        results = visible_search(ctx_of(request).archive.ports, user, q, filters, "relevance", limit, offset,
                                 via="api")
        return {
            "total": results.total,
            "approximate": results.approximate,  # total and facet counts estimated from a sample
            "hits": [{"kind": h.kind, "id": h.record_id, "title": h.title, "snippet": h.snippet,
                      "date": h.date.isoformat() if h.date else None, "language": h.language, "source": h.source,
                      "place": h.place, "state": h.state} for h in results.hits],
            "facets": {k: [[v, n] for v, n in values] for k, values in results.facets.items()},
        }

    @api.get("/posts", summary="List Telegram posts the caller may see (newest first)")
    def posts(request: Request, user: UserDep, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
        rows, total = visible_posts(ctx_of(request).archive.ports, user, offset, limit, via="api")
        return {"total": total, "posts": rows}

    @api.get("/posts/{post_id}", summary="One post: text, versions, media, the first page of its custody trail")
    def post(request: Request, post_id: str, user: UserDep) -> dict[str, Any]:
        return view_post(ctx_of(request).archive.ports, user, checked_id(post_id), via="api")

    @api.get("/captures", summary="List web captures the caller may see (newest first)")
    def captures(request: Request, user: UserDep, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
        rows, total = visible_captures(ctx_of(request).archive.ports, user, offset, limit, via="api")
        return {"total": total, "captures": rows}

    @api.get("/captures/{capture_id}", summary="One web capture: artefacts, headers, the first page of its custody "
             "trail")
    def capture(request: Request, capture_id: str, user: UserDep) -> dict[str, Any]:
        return view_capture(ctx_of(request).archive.ports, user, checked_id(capture_id), via="api")

    for path, kind in (("evidence", "item"), ("posts", "post"), ("captures", "capture")):
        _sensitivity_route(api, path, kind)
    for path, kind in (("evidence", "item"), ("posts", "post"), ("captures", "capture"), ("incidents", "incident")):
        _custody_route(api, path, kind)

    return api


def _sensitivity_route(api: FastAPI, path: str, kind: str) -> None:
    """PUT /{path}/{id}/sensitivity (editor or admin): set an item's, post's or capture's level."""

    @api.put(f"/{path}/{{record_id}}/sensitivity", summary=f"Set the sensitivity of one {kind} (editor or admin)",
             operation_id=f"set_{kind}_sensitivity")
    def change(request: Request, record_id: str, body: SensitivityIn, user: UserDep) -> dict[str, Any]:
        set_sensitivity(ctx_of(request).archive.ports, user, kind, checked_id(record_id), body.level)
        return {"id": record_id, "kind": kind, "sensitivity": body.level}


def _custody_route(api: FastAPI, path: str, kind: str) -> None:
    """GET /{path}/{id}/custody: one page of a record's custody trail, newest first."""

    @api.get(f"/{path}/{{record_id}}/custody", operation_id=f"{kind}_custody",
             summary=f"One page of a {kind}'s custody trail, newest first (views=true: only its record.viewed "
                     "entries); `next` is the `before` of the following page")
    def trail(request: Request, record_id: str, user: UserDep,
              views: Annotated[bool, Query()] = False,
              before: Annotated[int | None, Query(ge=0, le=2**62)] = None,
              limit: Annotated[int, Query(ge=1, le=CUSTODY_LIMIT)] = CUSTODY_PAGE) -> dict[str, Any]:
        return custody_trail(ctx_of(request).archive.ports, user, kind, checked_id(record_id), views, before, limit,
                             via="api")
