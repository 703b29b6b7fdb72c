"""Shared set-up for the web tests: an archive with one user per role (with and without access to
restricted records), evidence and incidents at every sensitivity, and sign-in helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from hujjat.adapters.credentials import fast_credentials
from hujjat.bootstrap import init_archive
from hujjat.domain.accounts import SENSITIVITIES
from hujjat.domain.captures import Capture, CaptureState
from hujjat.domain.evidence import Sensitivity
from hujjat.domain.ids import new_id
from hujjat.domain.posts import ChatInfo, Post, PostKind, PostRecord
from hujjat.services.accounts import create_user, issue_token
from hujjat.services.context import ArchivePorts
from hujjat.services.incidents import IncidentFields, create_incident
from hujjat.services.intake import IntakeRequest, ingest_paths
from hujjat.services.search import refresh_records

PASSWORD = "correct horse battery staple"
USERS = {
    "boss": ("admin", True),
    "ed": ("editor", False),
    "edr": ("editor", True),
    "rev": ("reviewer", False),
    "revr": ("reviewer", True),
    "view": ("viewer", False),
    "viewr": ("viewer", True),
}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class WebArchive:
    root: Path
    items: dict[str, str] = field(default_factory=dict)  # sensitivity -> item id
    incidents: dict[str, str] = field(default_factory=dict)  # sensitivity -> incident id
    posts: dict[str, str] = field(default_factory=dict)  # sensitivity -> post id
    captures: dict[str, str] = field(default_factory=dict)  # sensitivity -> capture id
    tokens: dict[str, str] = field(default_factory=dict)  # user -> API token


def build_archive(root: Path, files: dict[str, bytes] | None = None, database: str | None = None) -> WebArchive:
    """An archive with USERS, and one text item, incident, post and capture per sensitivity (named
    after it)."""
    from hujjat.adapters.taxonomy_file import load_taxonomy

    archive = init_archive(root, actor="setup", database=database)
    web = WebArchive(archive.config.root)
    try:
        ports, creds = archive.ports, fast_credentials()
        for name, (role, restricted) in USERS.items():
            create_user(ports, creds, name, role, PASSWORD, restricted)
            web.tokens[name] = issue_token(ports, name, "tests")
        material = root.parent / "material"
        material.mkdir(exist_ok=True)
        for level in SENSITIVITIES:
            (material / f"{level}-note.txt").write_text(f"{level} secret note number {level}\n")
        for name, data in (files or {}).items():
            (material / name).write_bytes(data)
        summary = ingest_paths(ports, [material], IntakeRequest(source="tests"))
        by_name = {Path(o.path).name: o.item_id for o in summary.outcomes}
        taxonomy = load_taxonomy(web.root)
        type_id = sorted(taxonomy.types)[0]
        for level in SENSITIVITIES:
            item_id = by_name[f"{level}-note.txt"]
            assert item_id
            with ports.uow() as tx:
                tx.accounts.set_item_sensitivity(item_id, level)
            web.items[level] = item_id
            record = create_incident(ports, taxonomy, None, IncidentFields(
                title=f"{level} incident", type=type_id, date="2026-03-01", place=f"{level.title()}ville",
                latitude="55.75", longitude="37.61", sensitivity=level))
            web.incidents[level] = str(record["id"])
            web.posts[level], web.captures[level] = _post_and_capture(ports, level)
        for name, item_id in by_name.items():
            if name not in {f"{lv}-note.txt" for lv in SENSITIVITIES}:
                web.items[name] = str(item_id)
    finally:
        archive.close()
    return web


def _post_and_capture(ports: ArchivePorts, level: str) -> tuple[str, str]:
    """A post and a capture at `level`, stored through the repositories as the Telegram import and
    the capture service store them (the matrix needs each level; neither needs a browser here), and
    indexed for search."""
    now = datetime.now(UTC)
    chat = ChatInfo(key=f"channel{len(level)}0{ord(level[0])}", raw_id=None, name=f"{level.title()} channel",
                    type="public_channel", username=None)
    record = PostRecord(chat=chat, message_id=1, kind=PostKind.MESSAGE, json_path="messages[0]", date_utc=now,
                        text=f"{level} telegram post, secret words {level}-post-marker")
    post = Post(new_id(), record, 1, None, None, now, Sensitivity(level))
    capture = Capture(id=new_id(), url=f"https://example.org/{level}-capture-marker", started_at=now,
                      actor="setup", state=CaptureState.OK, title=f"{level} captured page",
                      text=f"secret captured text {level}", sensitivity=Sensitivity(level))
    with ports.uow() as tx:
        tx.posts.ensure_chat(chat, now)
        tx.posts.add_posts([post], new_id())
        tx.captures.add(capture)
    refresh_records(ports, "post", [post.id])
    refresh_records(ports, "capture", [capture.id])
    return post.id, capture.id


def client_for(web: WebArchive, **options: object) -> TestClient:
    from hujjat.entrypoints.web.app import create_app

    app = create_app(web.root, credentials=fast_credentials(), run_jobs=False, **options)  # type: ignore[arg-type]
    return TestClient(app, base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in; return the session's CSRF token."""
    page = client.get("/login")
    response = client.post("/login", data={"username": name, "password": password, "csrf_token": csrf_of(page.text)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)
