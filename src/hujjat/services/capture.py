"""Capturing a web page as evidence, and reading captures back.

One capture is one record: it is written (state "started", custody "capture.started") before any
network access, so even a crash leaves a trace of the attempt; then the capturer runs in a
temporary folder, every artefact it wrote is stored and recorded as an evidence item whose
acquisition names the capture (source_kind "capture"), and the record is closed as "ok" or
"failed" with its reason (custody "capture.finished" / "capture.failed") listing each artefact's
role and SHA-256. A failed capture keeps whatever it did record (a 404 page is evidence too).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hujjat.domain.captures import Capture, CaptureArtefact, CaptureState, PageSnapshot, check_url
from hujjat.domain.errors import HujjatError, NotFound
from hujjat.domain.ids import new_id
from hujjat.ports.capture import PageCapturer
from hujjat.services.context import ArchivePorts
from hujjat.services.intake import IntakeRequest, record_blob
from hujjat.services.queries import custody_view
from hujjat.services.search import refresh_records

MAX_TEXT_CHARS = 2_000_000


@dataclass(frozen=True)
class CaptureResult:
    capture: Capture
    artefacts: list[CaptureArtefact]

    @property
    def ok(self) -> bool:
        return self.capture.state is CaptureState.OK


def _store_artefacts(
    ports: ArchivePorts, capture: Capture, snapshot: PageSnapshot
) -> tuple[list[CaptureArtefact], list[str]]:
    request = IntakeRequest(source_kind="capture", source=capture.id, note=capture.note)
    artefacts: list[CaptureArtefact] = []
    problems: list[str] = []
    for file in snapshot.files:
        try:
            with file.path.open("rb") as handle:
                blob = ports.store.put(handle)
        except OSError as exc:
            problems.append(f"could not store {file.role.value} {file.path.name}: {exc.strerror or exc}")
            continue
        outcome = record_blob(
            ports, blob, request, path=file.url, name=file.path.name, mtime=None, fallback=file.path
        )
        assert outcome.item_id is not None and outcome.sha256 is not None
        artefacts.append(
            CaptureArtefact(
                role=file.role.value,
                item_id=outcome.item_id,
                sha256=outcome.sha256,
                size=outcome.size,
                media_type=outcome.media_type or "application/octet-stream",
                url=file.url,
                name=file.path.name,
            )
        )
    return artefacts, problems


def capture_url(
    ports: ArchivePorts, capturer: PageCapturer, url: str, *, note: str | None = None, timeout: float = 30.0
) -> CaptureResult:
    """Capture `url` now. Bad URLs raise UsageError before anything is recorded; everything else
    (DNS, TLS, HTTP errors, timeouts, a browser crash) ends as a recorded failed capture."""
    url = check_url(url)
    if timeout <= 0:
        raise HujjatError("the timeout must be a positive number of seconds")
    capture = Capture(id=new_id(), url=url, started_at=ports.clock.now(), actor=ports.actor, note=note)
    with ports.uow() as tx:
        tx.captures.add(capture)
        tx.custody.append(ports.actor, "capture.started", capture.id, {"url": url, "note": note})
    with tempfile.TemporaryDirectory(prefix="hujjat-capture-") as tmp:
        try:
            snapshot = capturer.capture(url, Path(tmp), timeout)
        except Exception as exc:  # noqa: BLE001 - whatever broke, the attempt must be closed and recorded
            snapshot = PageSnapshot(url=url, error=f"capture failed: {type(exc).__name__}: {exc}")
        artefacts, problems = _store_artefacts(ports, capture, snapshot)
    error = snapshot.error or ("; ".join(problems) if problems else None)
    text = snapshot.text[:MAX_TEXT_CHARS] if snapshot.text else snapshot.text
    capture = replace(
        capture,
        state=CaptureState.FAILED if error else CaptureState.OK,
        final_url=snapshot.final_url,
        status=snapshot.status,
        status_text=snapshot.status_text,
        headers=snapshot.headers,
        finished_at=ports.clock.now(),
        error=error,
        title=snapshot.title,
        text=text,
        encoding=snapshot.encoding,
        encoding_source=snapshot.encoding_source,
        warnings=snapshot.warnings + problems,
        tool=snapshot.tool,
    )
    with ports.uow() as tx:
        tx.captures.update(capture)
        for artefact in artefacts:
            tx.captures.add_artefact(capture.id, artefact)
        tx.custody.append(
            ports.actor,
            "capture.failed" if error else "capture.finished",
            capture.id,
            {
                "url": url,
                "final_url": capture.final_url,
                "status": capture.status,
                "error": error,
                "artefacts": [{"role": a.role, "item": a.item_id, "sha256": a.sha256} for a in artefacts],
            },
        )
    refresh_records(ports, "capture", [capture.id])  # title, note, page text and URL become searchable
    return CaptureResult(capture, artefacts)


# --- reading ----------------------------------------------------------------------------------


def capture_summary(capture: Capture) -> dict[str, Any]:
    return {
        "id": capture.id,
        "kind": "capture",
        "url": capture.url,
        "final_url": capture.final_url,
        "status": capture.status,
        "state": capture.state.value,
        "error": capture.error,
        "title": capture.title,
        "started_at": capture.started_at.isoformat(),
        "finished_at": capture.finished_at.isoformat() if capture.finished_at else None,
        "sensitivity": capture.sensitivity.value,
    }


def artefact_view(artefact: CaptureArtefact) -> dict[str, Any]:
    return {
        "role": artefact.role,
        "item_id": artefact.item_id,
        "sha256": artefact.sha256,
        "size": artefact.size,
        "media_type": artefact.media_type,
        "url": artefact.url,
        "name": artefact.name,
    }


def capture_view(capture: Capture, artefacts: list[CaptureArtefact]) -> dict[str, Any]:
    view = capture_summary(capture)
    view.update(
        {
            "status_text": capture.status_text,
            "headers": capture.headers,
            "actor": capture.actor,
            "note": capture.note,
            "encoding": capture.encoding,
            "encoding_source": capture.encoding_source,
            "text": capture.text,
            "warnings": capture.warnings,
            "tool": capture.tool,
            "artefacts": [artefact_view(a) for a in artefacts],
        }
    )
    return view


def list_captures(ports: ArchivePorts) -> list[dict[str, Any]]:
    with ports.uow(read_only=True) as tx:
        return [capture_summary(c) for c in tx.captures.iter_captures()]


def find_capture(ports: ArchivePorts, reference: str) -> dict[str, Any] | None:
    """The full view of the capture `reference` names (id or unique prefix), else None."""
    with ports.uow(read_only=True) as tx:
        capture = tx.captures.resolve(reference)
        if capture is None:
            return None
        view = capture_view(capture, tx.captures.artefacts(capture.id))
        view["custody"] = [custody_view(e) for e in tx.custody.entries_for([capture.id])]
    return view


def capture_detail(ports: ArchivePorts, reference: str) -> dict[str, Any]:
    found = find_capture(ports, reference)
    if found is None:
        raise NotFound(f"no capture matches {reference!r}")
    return found
