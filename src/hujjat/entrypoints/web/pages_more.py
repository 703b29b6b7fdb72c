"""Dashboard, search, map and timeline pages (with their JSON data), uploads with job progress, and
exports (ACLED CSV, GeoJSON, BagIt) as downloads. Exports include only what the user may see."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from hujjat.domain.accounts import Right, User, require
from hujjat.domain.acled import geojson_feature
from hujjat.domain.errors import HujjatError, NotFound, UsageError
from hujjat.domain.search import KINDS as SEARCH_KINDS
from hujjat.entrypoints.web.auth import check_csrf, page_user
from hujjat.entrypoints.web.context import ctx_of, render
from hujjat.entrypoints.web.threads import long_running
from hujjat.export.bag import write_bag
from hujjat.ports.incidents import IncidentFilter
from hujjat.ports.search import SearchFilters
from hujjat.services.access import (
    check_package_selection,
    clearance,
    dashboard,
    visible_incidents,
    visible_search,
)
from hujjat.services.accounts import as_user
from hujjat.services.incident_exports import export_incidents

router = APIRouter()
UserDep = Annotated[User, Depends(page_user)]
MAX_UPLOAD_BYTES = 2 * 1024**3
MAX_FILES = 200
CHUNK = 1024 * 1024


@router.get("/", include_in_schema=False)
def home(request: Request, user: UserDep) -> Response:
    return render(request, "dashboard.html", board=dashboard(ctx_of(request).archive.ports, user))


@router.get("/search", include_in_schema=False)
def search_page(
    request: Request, user: UserDep,
    q: Annotated[str, Query(max_length=1000)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    order: Annotated[str, Query(max_length=20)] = "relevance",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    results, error = None, None
    if q.strip():
        filters = SearchFilters(include={"kind": [kind]}) if kind in SEARCH_KINDS else None
        try:
            results = visible_search(ctx_of(request).archive.ports, user, q, filters,
                                     order if order in ("relevance", "date") else "relevance", 20, (page - 1) * 20)
        except HujjatError as exc:
            error = str(exc)
    return render(request, "search.html", q=q, kind=kind, order=order, page=page, results=results, error=error,
                  kinds=SEARCH_KINDS)


def _features(request: Request, user: User) -> list[dict[str, Any]]:
    records = visible_incidents(ctx_of(request).archive.ports, user, IncidentFilter())
    return [geojson_feature(r) for r in records]


@router.get("/map", include_in_schema=False)
def map_page(request: Request, user: UserDep) -> Response:
    return render(request, "map.html")


@router.get("/map/incidents.geojson", include_in_schema=False)
def map_data(request: Request, user: UserDep) -> Response:
    features = [f for f in _features(request, user) if f.get("geometry")]
    return JSONResponse({"type": "FeatureCollection", "features": features})


def weekly_counts(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Incidents per ISO week (Monday) and type, for the timeline chart."""
    counts: Counter[tuple[str, str]] = Counter()
    for r in records:
        start = date.fromisoformat(str(r["start"])[:10])
        monday = date.fromordinal(start.toordinal() - start.weekday()).isoformat()
        counts[(monday, str(r["type"]))] += 1
    weeks = sorted({w for w, _ in counts})
    types = sorted({t for _, t in counts})
    return {"weeks": weeks, "series": [{"type": t, "counts": [counts[(w, t)] for w in weeks]} for t in types]}


@router.get("/timeline", include_in_schema=False)
def timeline_page(request: Request, user: UserDep) -> Response:
    return render(request, "timeline.html")


@router.get("/timeline/data.json", include_in_schema=False)
def timeline_data(request: Request, user: UserDep) -> Response:
    return JSONResponse(weekly_counts(visible_incidents(ctx_of(request).archive.ports, user, IncidentFilter(),
                                                         via=None)))


@router.get("/upload", include_in_schema=False)
def upload_form(request: Request, user: UserDep) -> Response:
    require(user, Right.ADD_EVIDENCE)
    return render(request, "upload.html", error=None)


def _safe_filename(name: str | None, index: int) -> str:
    """Keep the user's file name (it is evidence) but never as a path: no separators, no dot names."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "").strip()[:200]
    return base if base not in ("", ".", "..") else f"upload-{index}"


class UploadTooLarge(UsageError):
    """The upload exceeds MAX_UPLOAD_BYTES (HTTP 413)."""


def _too_large() -> UploadTooLarge:
    return UploadTooLarge(f"the upload is larger than {MAX_UPLOAD_BYTES // 1024**2} MiB")


@router.post("/upload", include_in_schema=False)
async def upload(request: Request, user: UserDep) -> Response:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + CHUNK:
        raise _too_large()  # refused before the body is read and spooled to disk
    form = await request.form(max_files=MAX_FILES + 2, max_fields=20)
    check_csrf(request, str(form.get("csrf_token", ""))[:200])
    require(user, Right.ADD_EVIDENCE)
    ctx = ctx_of(request)
    assert ctx.jobs is not None
    kind = str(form.get("kind", "files"))
    # an empty file input (e.g. the folder picker left unused) still sends one nameless part
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if kind not in ("files", "telegram") or not files or len(files) > MAX_FILES:
        raise UsageError(f"choose between 1 and {MAX_FILES} files")
    if kind == "telegram" and len(files) != 1:
        raise UsageError("a Telegram export is one .zip file")
    job_id, folder = ctx.jobs.staging()
    written = 0
    try:
        for index, upload_file in enumerate(files):
            target = folder / _safe_filename(upload_file.filename, index)
            if target.exists():
                target = folder / f"{index}-{target.name}"
            with target.open("xb") as out:
                while chunk := await upload_file.read(CHUNK):
                    written += len(chunk)
                    if written > MAX_UPLOAD_BYTES:
                        raise _too_large()
                    await run_in_threadpool(out.write, chunk)  # disk writes stay off the event loop
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    label = ", ".join(_safe_filename(f.filename, i) for i, f in enumerate(files))[:300]
    await run_in_threadpool(ctx.jobs.submit, job_id, kind, user.name, label)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


def _job(request: Request, user: User, job_id: str) -> dict[str, Any]:
    ctx = ctx_of(request)
    status = ctx.jobs.status(job_id) if ctx.jobs else None
    if status is None or (status.get("user") != user.name and not user.can(Right.ADMIN)):
        raise NotFound("no such job")
    return status


@router.get("/jobs/{job_id}", include_in_schema=False)
def job_page(request: Request, job_id: str, user: UserDep) -> Response:
    return render(request, "job.html", job=_job(request, user, job_id), job_id=job_id, partial=False)


@router.get("/jobs/{job_id}/progress", include_in_schema=False)
def job_progress(request: Request, job_id: str, user: UserDep) -> Response:
    return render(request, "job_progress.html", job=_job(request, user, job_id), job_id=job_id)


@router.get("/exports", include_in_schema=False)
def exports_page(request: Request, user: UserDep) -> Response:
    require(user, Right.EXPORT)
    return render(request, "exports.html")


def _download(path: Path, name: str, media_type: str, cleanup: Path) -> FileResponse:
    return FileResponse(path, media_type=media_type, filename=name,
                        background=BackgroundTask(shutil.rmtree, cleanup, ignore_errors=True))


@router.post("/exports/incidents", include_in_schema=False)
@long_running
def export_incidents_download(request: Request, user: UserDep, fmt: Annotated[str, Form(max_length=20)] = "acled",
                              csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, csrf_token)
    require(user, Right.EXPORT)
    ctx = ctx_of(request)
    if fmt not in ("acled", "geojson"):
        raise UsageError("choose ACLED CSV or GeoJSON")
    work = Path(tempfile.mkdtemp(prefix="export-", dir=ctx.archive.config.root))
    name = "incidents.csv" if fmt == "acled" else "incidents.geojson"
    try:
        export_incidents(as_user(ctx.archive.ports, user), ctx.taxonomy(), ctx.places(), work / name,
                         IncidentFilter(sensitivities=clearance(user)), fmt)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    media = "text/csv; charset=utf-8" if fmt == "acled" else "application/geo+json"
    return _download(work / name, name, media, work)


@router.post("/exports/bag", include_in_schema=False)
@long_running
def export_bag_download(request: Request, user: UserDep, incidents: Annotated[str, Form(max_length=4000)] = "",
                        csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, csrf_token)
    require(user, Right.EXPORT)
    ctx = ctx_of(request)
    refs = [r for r in incidents.replace(",", " ").split() if r]
    if not refs:
        raise UsageError("give at least one incident id")
    ids = check_package_selection(ctx.archive.ports, user, refs[:100])
    work = Path(tempfile.mkdtemp(prefix="export-", dir=ctx.archive.config.root))
    try:
        write_bag(as_user(ctx.archive.ports, user), work / "bag", items=[], incidents=ids)
        zipped = shutil.make_archive(str(work / "hujjat-package"), "zip", root_dir=work, base_dir="bag")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return _download(Path(zipped), "hujjat-package.zip", "application/zip", work)
