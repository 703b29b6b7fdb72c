"""User administration (admin only) and each user's own settings: language, time zone, TOTP."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from hujjat.domain.accounts import Right, Role, User, require
from hujjat.domain.errors import UsageError
from hujjat.entrypoints.web.auth import check_csrf, page_user
from hujjat.entrypoints.web.context import ctx_of, render
from hujjat.entrypoints.web.i18n import LANGUAGES
from hujjat.services.accounts import (
    as_user,
    create_user,
    issue_token,
    list_users,
    revoke_tokens,
    set_totp,
    update_user,
)

router = APIRouter()
UserDep = Annotated[User, Depends(page_user)]
Short = Annotated[str, Form(max_length=300)]


@router.get("/admin/users", include_in_schema=False)
def users_page(request: Request, user: UserDep) -> Response:
    require(user, Right.ADMIN)
    return render(request, "users.html", users=list_users(ctx_of(request).archive.ports),
                  roles=[r.value for r in Role], languages=LANGUAGES, token=None)


@router.post("/admin/users", include_in_schema=False)
def users_create(request: Request, user: UserDep, name: Short = "", role: Short = "viewer",
                 password: Annotated[str, Form(max_length=1024)] = "", restricted: Short = "",
                 language: Short = "en", csrf_token: Short = "") -> Response:
    check_csrf(request, csrf_token)
    require(user, Right.ADMIN)
    ctx = ctx_of(request)
    create_user(as_user(ctx.archive.ports, user), ctx.creds, name.strip(), role, password, restricted == "on", language)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}", include_in_schema=False)
def users_update(request: Request, name: str, user: UserDep, role: Short = "", restricted: Short = "",
                 active: Short = "", csrf_token: Short = "") -> Response:
    check_csrf(request, csrf_token)
    require(user, Right.ADMIN)
    ctx = ctx_of(request)
    if name == user.name and (role not in ("", Role.ADMIN.value) or active == "off"):
        raise UsageError("you cannot remove your own admin role or deactivate yourself")
    update_user(as_user(ctx.archive.ports, user), ctx.creds, name, role=role or None,
                restricted_access=(restricted == "on") if restricted else None,
                active=(active == "on") if active else None)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/token", include_in_schema=False)
def users_token(request: Request, name: str, user: UserDep, csrf_token: Short = "") -> Response:
    check_csrf(request, csrf_token)
    require(user, Right.ADMIN)
    ctx = ctx_of(request)
    token = issue_token(as_user(ctx.archive.ports, user), name, "web")
    return render(request, "users.html", users=list_users(ctx.archive.ports), roles=[r.value for r in Role],
                  languages=LANGUAGES, token={"name": name, "value": token})


@router.post("/admin/users/{name}/revoke", include_in_schema=False)
def users_revoke(request: Request, name: str, user: UserDep, csrf_token: Short = "") -> Response:
    check_csrf(request, csrf_token)
    require(user, Right.ADMIN)
    revoke_tokens(as_user(ctx_of(request).archive.ports, user), name)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/password", include_in_schema=False)
def users_password(request: Request, name: str, user: UserDep,
                   password: Annotated[str, Form(max_length=1024)] = "", csrf_token: Short = "") -> Response:
    check_csrf(request, csrf_token)
    require(user, Right.ADMIN)
    ctx = ctx_of(request)
    update_user(as_user(ctx.archive.ports, user), ctx.creds, name, password=password)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/account", include_in_schema=False)
def account_page(request: Request, user: UserDep) -> Response:
    ctx = ctx_of(request)
    secret = None if user.totp_secret else ctx.creds.new_totp_secret()
    uri = ctx.creds.totp_uri(secret, user.name, "Hujjat") if secret else None
    return render(request, "account.html", languages=LANGUAGES, timezones=sorted(available_timezones()),
                  secret=secret, uri=uri, error=None)


@router.post("/account", include_in_schema=False)
def account_update(request: Request, user: UserDep, language: Short = "", timezone: Short = "",
                   csrf_token: Short = "") -> Response:
    check_csrf(request, csrf_token)
    if timezone and timezone not in available_timezones():
        raise UsageError(f"unknown time zone {timezone!r}")
    ctx = ctx_of(request)
    update_user(as_user(ctx.archive.ports, user), ctx.creds, user.name, language=language or None,
                timezone=timezone or None)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/totp", include_in_schema=False)
def account_totp(request: Request, user: UserDep, secret: Short = "", code: Short = "", disable: Short = "",
                 csrf_token: Short = "") -> Response:
    check_csrf(request, csrf_token)
    ctx = ctx_of(request)
    set_totp(as_user(ctx.archive.ports, user), ctx.creds, user, None if disable else secret.strip(), code)
    return RedirectResponse("/account", status_code=303)
