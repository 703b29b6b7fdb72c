"""Incident pages: list with filters, detail (links, reviews, history), create/edit form, evidence
linking and review decisions. Every rule (validation, two-person rule, custody) is the incidents
service's; this module turns forms into IncidentFields and checks role and clearance first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from hujjat.domain.accounts import SENSITIVITIES, Right, User, require
from hujjat.domain.incidents import COUNT_FIELDS, LinkRole
from hujjat.domain.verification import State
from hujjat.entrypoints.web.auth import check_csrf, page_user
from hujjat.entrypoints.web.context import ctx_of, render
from hujjat.entrypoints.web.pages_evidence import checked_id, trail_route
from hujjat.ports.incidents import IncidentFilter
from hujjat.services.access import (
    check_incident_visible,
    check_level,
    check_target_visible,
    detail_trail,
    page_incidents,
    view_incident,
)
from hujjat.services.accounts import as_user
from hujjat.services.incidents import (
    IncidentFields,
    create_incident,
    edit_incident,
    link_incident,
    review_incident,
)

router = APIRouter()
PAGE = 50
UserDep = Annotated[User, Depends(page_user)]
trail_route(router, "incidents", "incident")
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=300)]
FIELD_NAMES = ("title", "type", "subtype", "date", "end_date", "time", "precision", "place", "latitude",
               "longitude", "description", "actors", "targets", "tags", "sensitivity", *COUNT_FIELDS)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


async def incident_form(request: Request) -> dict[str, str]:
    """The incident form's fields as strings (absent ones empty), at most 4,000 characters each."""
    form = await request.form()
    return {name: str(form.get(name, ""))[:4000] for name in (*FIELD_NAMES, "csrf_token")}


def fields_from_form(form: dict[str, str], editing: bool) -> IncidentFields:
    """Empty boxes mean "not given" on create, and "unchanged" on edit for optional values."""

    def value(name: str) -> str | None:
        text = form.get(name, "").strip()
        return text if text else None

    lat, lon = value("latitude"), value("longitude")
    counts = {k: form[k].strip() for k in COUNT_FIELDS if form.get(k, "").strip()}
    return IncidentFields(
        title=value("title"), type=value("type"), subtype=value("subtype"), date=value("date"),
        end_date=value("end_date"), time=value("time"), precision=value("precision"),
        place=value("place"), latitude=lat, longitude=lon, description=form.get("description") if form.get("description") or editing else None,
        actors=_split(form.get("actors", "")) if form.get("actors") or editing else None,
        targets=_split(form.get("targets", "")) if form.get("targets") or editing else None,
        tags=_split(form.get("tags", "")) if form.get("tags") or editing else None,
        sensitivity=value("sensitivity"), counts=counts,
    )


@router.get("/incidents", include_in_schema=False)
def incidents_list(
    request: Request, user: UserDep,
    state: Annotated[str, Query(max_length=20)] = "",
    type: Annotated[str, Query(max_length=60)] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    ctx = ctx_of(request)
    states = (state,) if state in {s.value for s in State} else ()
    query = IncidentFilter(states=states, type=type or None)
    records, total = page_incidents(ctx.archive.ports, user, query, (page - 1) * PAGE, PAGE, links=False)
    return render(request, "incidents_list.html", incidents=records, page=page, more=page * PAGE < total,
                  total=total, pages=max(1, -(-total // PAGE)),
                  state=state, type=type, states=[s.value for s in State], types=ctx.taxonomy().types,
                  can_edit=user.can(Right.EDIT_INCIDENTS))


@router.get("/incidents/new", include_in_schema=False)
def incident_new(request: Request, user: UserDep) -> Response:
    require(user, Right.EDIT_INCIDENTS)
    return render(request, "incident_form.html", incident=None, values={}, error=None,
                  taxonomy=ctx_of(request).taxonomy(), sensitivities=SENSITIVITIES, counts=COUNT_FIELDS)


@router.post("/incidents/new", include_in_schema=False)
def incident_create(request: Request, user: UserDep,
                    form: Annotated[dict[str, str], Depends(incident_form)]) -> Response:
    check_csrf(request, form["csrf_token"])
    require(user, Right.EDIT_INCIDENTS)
    ctx = ctx_of(request)
    fields = fields_from_form(form, editing=False)
    if fields.sensitivity is None:
        fields.sensitivity = "internal"
    check_level(user, fields.sensitivity)
    record = create_incident(as_user(ctx.archive.ports, user), ctx.taxonomy(), ctx.places(), fields)
    return RedirectResponse(f"/incidents/{record['id']}", status_code=303)


@router.get("/incidents/{incident_id}", include_in_schema=False)
def incident_page(request: Request, incident_id: str, user: UserDep) -> Response:
    ports = ctx_of(request).archive.ports
    detail = view_incident(ports, user, checked_id(incident_id), custody=False)
    return render(request, "incident_detail.html", incident=detail, roles=[r.value for r in LinkRole],
                  states=[s.value for s in State], can_edit=user.can(Right.EDIT_INCIDENTS) and not detail.get("reference"),
                  can_review=user.can(Right.REVIEW), trail=detail_trail(ports, user, "incident", detail),
                  trail_url=f"/incidents/{detail['id']}/custody", views=False)


@router.get("/incidents/{incident_id}/edit", include_in_schema=False)
def incident_edit_form(request: Request, incident_id: str, user: UserDep) -> Response:
    require(user, Right.EDIT_INCIDENTS)
    detail = view_incident(ctx_of(request).archive.ports, user, checked_id(incident_id), custody=False)
    return render(request, "incident_form.html", incident=detail, values={}, error=None,
                  taxonomy=ctx_of(request).taxonomy(), sensitivities=SENSITIVITIES, counts=COUNT_FIELDS)


@router.post("/incidents/{incident_id}/edit", include_in_schema=False)
def incident_edit(request: Request, incident_id: str, user: UserDep,
                  form: Annotated[dict[str, str], Depends(incident_form)]) -> Response:
    check_csrf(request, form["csrf_token"])
    require(user, Right.EDIT_INCIDENTS)
    ctx = ctx_of(request)
    found = check_incident_visible(ctx.archive.ports, user, checked_id(incident_id))
    fields = fields_from_form(form, editing=True)
    check_level(user, fields.sensitivity)
    edit_incident(as_user(ctx.archive.ports, user), ctx.taxonomy(), ctx.places(), found, fields)
    return RedirectResponse(f"/incidents/{found}", status_code=303)


@router.post("/incidents/{incident_id}/link", include_in_schema=False)
def incident_link(request: Request, incident_id: str, user: UserDep, target: Short = "", role: Short = "depicts",
                  note: Text = "", csrf_token: Short = "") -> Response:
    check_csrf(request, csrf_token)
    require(user, Right.EDIT_INCIDENTS)
    ports = ctx_of(request).archive.ports
    found = check_incident_visible(ports, user, checked_id(incident_id))
    check_target_visible(ports, user, target.strip())
    link_incident(as_user(ports, user), found, target.strip(), role, note or None)
    return RedirectResponse(f"/incidents/{found}", status_code=303)


@router.post("/incidents/{incident_id}/review", include_in_schema=False)
def incident_review(request: Request, incident_id: str, user: UserDep, state: Short = "", note: Text = "",
                    csrf_token: Short = "") -> Response:
    check_csrf(request, csrf_token)
    require(user, Right.REVIEW)
    ports = ctx_of(request).archive.ports
    found = check_incident_visible(ports, user, checked_id(incident_id))
    review_incident(as_user(ports, user), found, state, note)
    return RedirectResponse(f"/incidents/{found}", status_code=303)
