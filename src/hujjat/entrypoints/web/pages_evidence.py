"""Evidence pages: the browser (filters, thumbnails), one item's detail with its viewer, the bytes
(Range-capable) and thumbnails, the custody trail in pages, and changing an item's sensitivity. Reads go through
services.access, which hides what the user may not see and logs views of restricted items."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from hujjat.domain.accounts import SENSITIVITIES, Right, User
from hujjat.domain.errors import NotFound
from hujjat.entrypoints.web.auth import check_csrf, page_user
from hujjat.entrypoints.web.context import ctx_of, render
from hujjat.entrypoints.web.media import serve_bytes
from hujjat.ports.accounts import ItemPageQuery
from hujjat.ports.protection import EncryptingStore
from hujjat.processing.thumbnails import THUMB_MEDIA, thumbnail
from hujjat.services.access import (
    custody_trail,
    detail_trail,
    item_for_bytes,
    page_items,
    set_sensitivity,
    view_item,
)

router = APIRouter()
ID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
KINDS = ("image", "video", "audio", "text", "application")
PAGE = 48
UserDep = Annotated[User, Depends(page_user)]


def checked_id(item_id: str) -> str:
    """Record ids are ULIDs; anything else (paths, dots, slashes) is simply not found."""
    if not ID_RE.match(item_id):
        raise NotFound("no such record")
    return item_id


@router.get("/evidence", include_in_schema=False)
def evidence_list(
    request: Request, user: UserDep,
    kind: Annotated[str, Query(max_length=20)] = "",
    sensitivity: Annotated[str, Query(max_length=20)] = "",
    name: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    query = ItemPageQuery(offset=(page - 1) * PAGE, limit=PAGE, media_prefix=kind if kind in KINDS else None,
                          sensitivities=(sensitivity,) if sensitivity in SENSITIVITIES else (),
                          name_contains=name.strip() or None)
    rows, total = page_items(ctx_of(request).archive.ports, user, query)
    # Each tile with whether it has a thumbnail and its icon, worked out here: two method calls per
    # tile in the template were a third of its rendering time.
    tiles = [(r, r.media_type.split(";")[0] in THUMB_MEDIA, r.media_type.split("/")[0]) for r in rows]
    return render(request, "evidence_list.html", tiles=tiles, total=total, page=page, pages=max(1, -(-total // PAGE)),
                  kind=kind, sensitivity=sensitivity, name=name, kinds=KINDS, sensitivities=SENSITIVITIES)


@router.get("/evidence/{item_id}", include_in_schema=False)
def evidence_detail(request: Request, item_id: str, user: UserDep) -> Response:
    ports = ctx_of(request).archive.ports
    detail = view_item(ports, user, checked_id(item_id), custody=False)
    media = str(detail["media_type"]).split(";")[0]
    names = [a["original_name"] for a in detail["acquisitions"] if a.get("original_name")]
    trail = detail_trail(ports, user, "item", detail)
    return render(request, "evidence_detail.html", item=detail, media=media, names=names, trail=trail,
                  trail_url=f"/evidence/{detail['id']}/custody", views=False,
                  can_edit=user.can(Right.EDIT_INCIDENTS), sensitivities=SENSITIVITIES)


def trail_route(router: APIRouter, path: str, kind: str) -> None:
    """GET /{path}/{id}/custody: more of a record's custody trail (or its view entries), 50
    entries a page: rows for htmx, a page of its own without JavaScript."""

    @router.get(f"/{path}/{{record_id}}/custody", include_in_schema=False, name=f"{kind}_custody")
    def more(
        request: Request, record_id: str, user: UserDep,
        views: Annotated[bool, Query()] = False,
        before: Annotated[int | None, Query(ge=0)] = None,
    ) -> Response:
        trail = custody_trail(ctx_of(request).archive.ports, user, kind, checked_id(record_id), views, before)
        template = "custody_rows.html" if request.headers.get("hx-request") else "custody.html"
        return render(request, template, trail=trail, trail_url=f"/{path}/{record_id}/custody", views=views,
                      record_url=f"/{path}/{record_id}")


trail_route(router, "evidence", "item")


def _bytes(request: Request, item_id: str, user: User, download: bool) -> Response:
    ctx = ctx_of(request)
    item = item_for_bytes(ctx.archive.ports, user, checked_id(item_id))
    name = request.query_params.get("name")
    return serve_bytes(ctx.archive.ports.store, item, request.headers.get("range"), download,
                       name[:200] if name else None)


@router.get("/evidence/{item_id}/raw", include_in_schema=False)
def evidence_raw(request: Request, item_id: str, user: UserDep) -> Response:
    return _bytes(request, item_id, user, download=False)


@router.get("/evidence/{item_id}/download", include_in_schema=False)
def evidence_download(request: Request, item_id: str, user: UserDep) -> Response:
    return _bytes(request, item_id, user, download=True)


@router.get("/evidence/{item_id}/thumb", include_in_schema=False)
def evidence_thumb(request: Request, item_id: str, user: UserDep) -> Response:
    ctx = ctx_of(request)
    item = item_for_bytes(ctx.archive.ports, user, checked_id(item_id))
    if item.media_type.split(";")[0] not in THUMB_MEDIA:
        raise NotFound("no thumbnail for this kind of file")
    if isinstance(ctx.archive.ports.store, EncryptingStore):  # no plaintext thumbnails at rest
        with tempfile.TemporaryDirectory(prefix="hujjat-thumb-") as tmp, \
                ctx.archive.ports.store.open(item.sha256) as source:
            made = thumbnail(Path(tmp), item.sha256, source)
            data = made.read_bytes() if made is not None else None
        if data is None:
            raise NotFound("no thumbnail: the image cannot be decoded")
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})
    with ctx.archive.ports.store.open(item.sha256) as source:
        path = thumbnail(ctx.archive.config.root / "thumbs", item.sha256, source)
    if path is None:
        raise NotFound("no thumbnail: the image cannot be decoded")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.post("/evidence/{item_id}/sensitivity", include_in_schema=False)
def evidence_sensitivity(
    request: Request, item_id: str, user: UserDep,
    level: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return change_sensitivity(request, user, "item", item_id, level, csrf_token, "/evidence")


def change_sensitivity(request: Request, user: User, kind: str, record_id: str, level: str, csrf_token: str,
                       page: str) -> Response:
    """The sensitivity forms of evidence, post and capture pages: check, set (logged), back to the page."""
    check_csrf(request, csrf_token)
    set_sensitivity(ctx_of(request).archive.ports, user, kind, checked_id(record_id), level)
    return RedirectResponse(f"{page}/{record_id}", status_code=303)
