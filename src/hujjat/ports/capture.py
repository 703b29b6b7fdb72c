"""Ports for web captures: the page capturer (a headless browser behind it, chosen by the
entrypoint) and the repository of capture records. Services see only these Protocols, so they
never import Playwright or SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from hujjat.domain.captures import Capture, CaptureArtefact, PageSnapshot


class PageCapturer(Protocol):
    def capture(self, url: str, workdir: Path, timeout: float) -> PageSnapshot:
        """Load `url`, write the artefacts into `workdir` and describe them. Network failures,
        HTTP error statuses and timeouts come back as `PageSnapshot.error`, not as exceptions."""
        ...


class CaptureRepository(Protocol):
    def add(self, capture: Capture) -> None: ...

    def update(self, capture: Capture) -> None:
        """Store the finished state of a capture added before (same id)."""
        ...

    def add_artefact(self, capture_id: str, artefact: CaptureArtefact) -> None: ...

    def get(self, capture_id: str) -> Capture | None: ...

    def resolve(self, reference: str) -> Capture | None:
        """By id or a unique id prefix (at least 4 characters); None when nothing matches."""
        ...

    def artefacts(self, capture_id: str) -> list[CaptureArtefact]: ...

    def iter_captures(self) -> Iterator[Capture]: ...

    def page(self, levels: tuple[str, ...], offset: int, limit: int) -> tuple[list[Capture], int]:
        """Captures at `levels` (all when empty), newest first, and how many there are."""
        ...
