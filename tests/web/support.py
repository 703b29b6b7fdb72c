"""Shared set-up for the web tests: an archive with one user per role (with and without access to
restricted records), evidence and incidents at every sensitivity, and sign-in helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from hujjat.adapters.credentials import fast_credentials
from hujjat.bootstrap import init_archive
from hujjat.domain.accounts import SENSITIVITIES
from hujjat.services.accounts import create_user, issue_token
from hujjat.services.incidents import IncidentFields, create_incident
from hujjat.services.intake import IntakeRequest, ingest_paths

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
    tokens: dict[str, str] = field(default_factory=dict)  # user -> API token


def build_archive(root: Path, files: dict[str, bytes] | None = None, database: str | None = None) -> WebArchive:
    """An archive with USERS, one text item and one incident per sensitivity (named after it)."""
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
        for name, item_id in by_name.items():
            if name not in {f"{lv}-note.txt" for lv in SENSITIVITIES}:
                web.items[name] = str(item_id)
    finally:
        archive.close()
    return web


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
