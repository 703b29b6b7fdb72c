"""Posts (Telegram imports) and web captures: lists and detail pages over their read services.
They have no sensitivity of their own yet, so every signed-in user may read them; the evidence
items they carry keep theirs (their pages check it)."""

from __future__ import annotations

from itertools import islice
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hujjat.domain.accounts import Right, User, require
from hujjat.domain.errors import NotFound
from hujjat.entrypoints.web.auth import page_user
from hujjat.entrypoints.web.context import ctx_of, render
from hujjat.entrypoints.web.pages_evidence import checked_id
from hujjat.services.capture import find_capture, list_captures
from hujjat.services.post_queries import iter_post_summaries, post_detail

router = APIRouter()
UserDep = Annotated[User, Depends(page_user)]
PAGE = 50


@router.get("/posts", include_in_schema=False)
def posts_list(request: Request, user: UserDep, page: Annotated[int, Query(ge=1, le=100000)] = 1) -> Response:
    require(user, Right.READ)
    rows = list(islice(iter_post_summaries(ctx_of(request).archive.ports), (page - 1) * PAGE, page * PAGE + 1))
    return render(request, "posts.html", posts=rows[:PAGE], page=page, more=len(rows) > PAGE)


@router.get("/posts/{post_id}", include_in_schema=False)
def post_page(request: Request, post_id: str, user: UserDep) -> Response:
    require(user, Right.READ)
    return render(request, "post.html", post=post_detail(ctx_of(request).archive.ports, checked_id(post_id)))


@router.get("/captures", include_in_schema=False)
def captures_list(request: Request, user: UserDep) -> Response:
    require(user, Right.READ)
    return render(request, "captures.html", captures=list_captures(ctx_of(request).archive.ports)[-500:][::-1])


@router.get("/captures/{capture_id}", include_in_schema=False)
def capture_page(request: Request, capture_id: str, user: UserDep) -> Response:
    require(user, Right.READ)
    found = find_capture(ctx_of(request).archive.ports, checked_id(capture_id))
    if found is None:
        raise NotFound("no such capture")
    return render(request, "capture.html", capture=found)
