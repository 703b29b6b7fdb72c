"""SQL repository for capture records and their artefacts (see capture_tables)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.capture_tables import capture_artefacts, captures
from hujjat.adapters.db.field_cipher import FieldCipher, cipher_of
from hujjat.adapters.db.tables import items
from hujjat.domain.captures import Capture, CaptureArtefact, CaptureState
from hujjat.domain.errors import Ambiguous
from hujjat.domain.evidence import Sensitivity
from hujjat.domain.ids import ULID_RE

MIN_PREFIX = 4
NOTE = "captures.note"  # sealed on encrypted server databases (adapters/crypto/fields.py)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _row_values(capture: Capture, fields: FieldCipher) -> dict[str, Any]:
    return {
        "url": capture.url,
        "final_url": capture.final_url,
        "http_status": capture.status,
        "status_text": capture.status_text,
        "headers": [list(pair) for pair in capture.headers],
        "started_at": capture.started_at,
        "finished_at": capture.finished_at,
        "state": capture.state.value,
        "error": capture.error,
        "actor": capture.actor,
        "note": fields.seal(capture.note, NOTE),
        "title": capture.title,
        "text": capture.text,
        "encoding": capture.encoding,
        "encoding_source": capture.encoding_source,
        "warnings": list(capture.warnings),
        "tool": capture.tool,
    }


def _capture(row: Any, fields: FieldCipher) -> Capture:
    return Capture(
        id=row.id,
        url=row.url,
        started_at=_aware(row.started_at) or datetime.now(UTC),
        actor=row.actor,
        state=CaptureState(row.state),
        note=fields.open_(row.note, NOTE),
        final_url=row.final_url,
        status=row.http_status,
        status_text=row.status_text,
        headers=[list(pair) for pair in row.headers or []],
        finished_at=_aware(row.finished_at),
        error=row.error,
        title=row.title,
        text=row.text,
        encoding=row.encoding,
        encoding_source=row.encoding_source,
        warnings=list(row.warnings or []),
        tool=row.tool,
        sensitivity=Sensitivity(row.sensitivity),
    )


class SqlCaptureRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, capture: Capture) -> None:
        self.conn.execute(captures.insert().values(id=capture.id, sensitivity=capture.sensitivity.value,
                                                   **_row_values(capture, cipher_of(self.conn))))

    def update(self, capture: Capture) -> None:
        self.conn.execute(captures.update().where(captures.c.id == capture.id).values(**_row_values(capture, cipher_of(self.conn))))

    def add_artefact(self, capture_id: str, artefact: CaptureArtefact) -> None:
        self.conn.execute(
            capture_artefacts.insert().values(
                capture_id=capture_id,
                role=artefact.role,
                item_id=artefact.item_id,
                url=artefact.url,
                name=artefact.name,
            )
        )

    def get(self, capture_id: str) -> Capture | None:
        row = self.conn.execute(sa.select(captures).where(captures.c.id == capture_id)).first()
        return _capture(row, cipher_of(self.conn)) if row else None

    def resolve(self, reference: str) -> Capture | None:
        ref = reference.strip().upper()
        found = self.get(ref)
        if found is not None or len(ref) < MIN_PREFIX or not ULID_RE.match(ref.ljust(26, "0")):
            return found
        rows = self.conn.execute(sa.select(captures).where(captures.c.id.like(ref + "%")).limit(2)).all()
        if len(rows) > 1:
            raise Ambiguous(f"{reference!r} matches more than one capture: give more characters")
        return _capture(rows[0], cipher_of(self.conn)) if rows else None

    def artefacts(self, capture_id: str) -> list[CaptureArtefact]:
        query = (
            sa.select(capture_artefacts, items.c.sha256, items.c.size, items.c.media_type)
            .join(items, items.c.id == capture_artefacts.c.item_id)
            .where(capture_artefacts.c.capture_id == capture_id)
            .order_by(capture_artefacts.c.id)
        )
        return [
            CaptureArtefact(r.role, r.item_id, r.sha256, int(r.size), r.media_type, r.url, r.name)
            for r in self.conn.execute(query)
        ]

    def iter_captures(self) -> Iterator[Capture]:
        result = self.conn.execute(
            sa.select(captures).order_by(captures.c.id), execution_options={"yield_per": 500}
        )
        for row in result:
            yield _capture(row, cipher_of(self.conn))

    def page(self, levels: tuple[str, ...], offset: int, limit: int) -> tuple[list[Capture], int]:
        fields = cipher_of(self.conn)
        # `|| ''` keeps SQLite reading the primary key newest first (the count uses the index)
        level = captures.c.sensitivity.concat("") if self.conn.dialect.name == "sqlite" else captures.c.sensitivity
        conditions = [level.in_(levels)] if levels else []
        counting = [captures.c.sensitivity.in_(levels)] if levels else []
        query = sa.select(captures).where(*conditions).order_by(captures.c.id.desc()).offset(offset).limit(limit)
        found = [_capture(row, fields) for row in self.conn.execute(query)]
        total = self.conn.execute(sa.select(sa.func.count()).select_from(captures).where(*counting)).scalar_one()
        return found, int(total)
