"""Posts (Telegram imports) and web captures: lists and detail pages, and changing their
sensitivity. Reads go through services.access, which hides what is above the user's clearance and
logs views of restricted records; the evidence items they carry keep their own levels (their pages
check them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from hujjat.domain.accounts import SENSITIVITIES, Right, User
from hujjat.entrypoints.web.auth import page_user
from hujjat.entrypoints.web.context import ctx_of, render
from hujjat.entrypoints.web.pages_evidence import change_sensitivity, checked_id, trail_route
from hujjat.services.access import (
    detail_trail,
    view_capture,
    view_post,
    visible_captures,
    visible_posts,
)

router = APIRouter()
UserDep = Annotated[User, Depends(page_user)]
PageNo = Annotated[int, Query(ge=1, le=100000)]
PAGE = 50
trail_route(router, "posts", "post")
trail_route(router, "captures", "capture")


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE))


@router.get("/posts", include_in_schema=False)
def posts_list(request: Request, user: UserDep, page: PageNo = 1) -> Response:
    rows, total = visible_posts(ctx_of(request).archive.ports, user, (page - 1) * PAGE, PAGE)
    return _list_page(request, "posts.html", "posts", rows, total, page)


@router.get("/posts/{post_id}", include_in_schema=False)
def post_page(request: Request, post_id: str, user: UserDep) -> Response:
    ports = ctx_of(request).archive.ports
    return _detail_page(request, user, "post", view_post(ports, user, checked_id(post_id), custody=False))


@router.get("/captures", include_in_schema=False)
def captures_list(request: Request, user: UserDep, page: PageNo = 1) -> Response:
    rows, total = visible_captures(ctx_of(request).archive.ports, user, (page - 1) * PAGE, PAGE)
    return _list_page(request, "captures.html", "captures", rows, total, page)


@router.get("/captures/{capture_id}", include_in_schema=False)
def capture_page(request: Request, capture_id: str, user: UserDep) -> Response:
    ports = ctx_of(request).archive.ports
    return _detail_page(request, user, "capture", view_capture(ports, user, checked_id(capture_id), custody=False))


def _list_page(request: Request, template: str, name: str, rows: list[dict[str, Any]], total: int,
               page: int) -> Response:
    values: dict[str, Any] = {name: rows, "total": total, "page": page, "pages": _pages(total),
                              "more": page * PAGE < total}
    return render(request, template, **values)


def _detail_page(request: Request, user: User, kind: str, record: dict[str, Any]) -> Response:
    """A post's or capture's page: the record (already checked and logged) and its first trail page."""
    ports = ctx_of(request).archive.ports
    values: dict[str, Any] = {kind: record, "can_edit": user.can(Right.EDIT_INCIDENTS), "sensitivities": SENSITIVITIES,
                              "trail": detail_trail(ports, user, kind, record),
                              "trail_url": f"/{kind}s/{record['id']}/custody", "views": False}
    return render(request, f"{kind}.html", **values)


@router.post("/posts/{post_id}/sensitivity", include_in_schema=False)
def post_sensitivity(
    request: Request, post_id: str, user: UserDep,
    level: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return change_sensitivity(request, user, "post", post_id, level, csrf_token, "/posts")


@router.post("/captures/{capture_id}/sensitivity", include_in_schema=False)
def capture_sensitivity(
    request: Request, capture_id: str, user: UserDep,
    level: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return change_sensitivity(request, user, "capture", capture_id, level, csrf_token, "/captures")
