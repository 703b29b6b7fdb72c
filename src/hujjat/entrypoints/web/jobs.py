"""Background jobs for uploads (files, Telegram export zips) on the huey job queue.

Embedded default: a SqliteHuey queue in `<archive>/jobs.sqlite`, consumed by worker threads inside
`hujjat serve`. At scale, `[jobs] redis = "redis://host:6379/0"` in hujjat.toml selects RedisHuey
(run more consumers elsewhere with the same setting). Progress lives in the queue's key-value
storage, so the page that polls a job sees it whichever process runs it. Uploaded bytes wait in
`<archive>/uploads/<job>/` and are removed when the job ends; the archive keeps its own copy.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey

from hujjat.domain.errors import HujjatError
from hujjat.domain.ids import new_id
from hujjat.intake.telegram import open_export
from hujjat.services.intake import IntakeOutcome, IntakeRequest, ingest_paths
from hujjat.services.telegram_import import import_export

if TYPE_CHECKING:
    from hujjat.entrypoints.web.context import WebContext

UPLOADS = "uploads"
KINDS = ("files", "telegram")


class _Progress:
    """Observer for intake and Telegram import: writes progress at most every 0.3 s."""

    def __init__(self, runner: JobRunner, job_id: str) -> None:
        self.runner, self.job_id = runner, job_id
        self.done = self.total = 0
        self.failed: list[str] = []
        self.last = 0.0

    def _push(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last > 0.3:
            self.last = now
            self.runner.update(self.job_id, state="running", done=self.done, total=self.total)

    def planned(self, files: int, total_bytes: int | None = None) -> None:
        self.total = total_bytes if total_bytes is not None else files
        self._push(force=True)

    def advance(self, amount: int) -> None:
        self.done += amount
        self._push()

    def finished(self, outcome: IntakeOutcome) -> None:
        if outcome.status in ("failed", "skipped"):
            self.failed.append(f"{Path(outcome.path).name}: {outcome.message or outcome.status}")


class JobRunner:
    def __init__(self, root: Path, ctx: WebContext, *, immediate: bool = False, workers: int = 1) -> None:
        self.root, self.ctx, self.workers = root, ctx, workers
        redis = ctx.archive.config.extra.get("jobs", {}).get("redis")
        name = f"hujjat-{ctx.archive.config.archive_id}"  # archives may share one Redis server
        self.huey: Huey = (RedisHuey(name, url=redis, immediate=immediate) if redis
                           else SqliteHuey(name, filename=str(root / "jobs.sqlite"), immediate=immediate))
        self.task = self.huey.task(name="hujjat.upload")(self._run)
        self.consumer: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.huey.immediate:
            return
        self.consumer = self.huey.create_consumer(workers=self.workers, worker_type="thread", periodic=False,
                                                  check_worker_health=False)
        self.consumer._set_signal_handlers = lambda: None  # the server owns the signals
        self.thread = threading.Thread(target=self.consumer.run, name="hujjat-jobs", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop(graceful=False)
            self.consumer = None

    def staging(self) -> tuple[str, Path]:
        job_id = new_id()
        folder = self.root / UPLOADS / job_id
        folder.mkdir(parents=True)
        return job_id, folder

    def submit(self, job_id: str, kind: str, user: str, label: str) -> None:
        if kind not in KINDS:
            raise HujjatError(f"unknown job kind {kind!r}")
        self.update(job_id, state="queued", kind=kind, user=user, label=label, done=0, total=0)
        self.task(job_id, kind, user)

    def update(self, job_id: str, **values: Any) -> None:
        current = self.status(job_id) or {}
        current.update(values)
        self.huey.put(f"job:{job_id}", current)

    def status(self, job_id: str) -> dict[str, Any] | None:
        if not job_id.isalnum() or len(job_id) != 26:
            return None
        value = self.huey.get(f"job:{job_id}", peek=True)
        return dict(value) if isinstance(value, dict) else None

    def _run(self, job_id: str, kind: str, user: str) -> None:
        folder = self.root / UPLOADS / job_id
        ports = replace(self.ctx.archive.ports, actor=user)
        progress = _Progress(self, job_id)
        self.update(job_id, state="running")
        try:
            if kind == "files":
                summary = ingest_paths(ports, [folder], IntakeRequest(source_kind="upload", source=f"web upload by {user}"),
                                       progress)
                result: dict[str, Any] = {"added": summary.count("added"), "present": summary.count("present"),
                                          "failed": summary.count("failed") + summary.count("skipped"),
                                          "items": [o.item_id for o in summary.outcomes if o.item_id],
                                          "problems": progress.failed[:20]}
            else:
                archive_zip = next(folder.iterdir())
                with open_export(archive_zip, workdir=folder) as export:
                    result = import_export(ports, export, progress).as_dict()
            self.update(job_id, state="done", result=result, done=progress.total, total=progress.total)
        except HujjatError as exc:
            self.update(job_id, state="failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 -- a job must end with a state the user can read
            self.update(job_id, state="failed", error=f"unexpected failure: {type(exc).__name__}: {exc}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self.ctx.sign_soon(force=True)
