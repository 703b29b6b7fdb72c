"""Stored XSS, path traversal in download URLs, IDOR by guessing ids, hostile uploads, headers."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient

from hujjat.domain.ids import new_id
from tests.web.conftest import XSS_NAME
from tests.web.support import WebArchive, client_for, login


def test_file_names_and_text_with_html_are_shown_escaped(client: TestClient, web_archive: WebArchive) -> None:
    login(client, "boss")
    item = web_archive.items[XSS_NAME]
    for path in ("/evidence", f"/evidence/{item}", "/search?q=alert", "/search?q=onerror"):
        page = client.get(path).text
        assert "<img src=x onerror=alert(1)>" not in page, path
        assert "<script>alert" not in page, path
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get(f"/evidence/{item}").text


def test_incident_text_with_html_is_escaped(fresh_archive: WebArchive) -> None:
    with client_for(fresh_archive) as c:
        csrf = login(c, "edr")
        evil = '<script>alert("t")</script>'
        r = c.post("/incidents/new", follow_redirects=False, data={
            "csrf_token": csrf, "title": f"Raid {evil}", "type": "detention", "date": "2026-03-02",
            "latitude": "55.7", "longitude": "37.6", "description": f"desc {evil}", "tags": "x"})
        assert r.status_code == 303, r.text
        incident = r.headers["location"].rsplit("/", 1)[1]
        c.post(f"/incidents/{incident}/link", data={"csrf_token": csrf, "target": fresh_archive.items["public"],
                                                     "role": "depicts", "note": f"note {evil}"})
        for path in (f"/incidents/{incident}", "/incidents", "/", "/search?q=raid"):
            page = c.get(path).text
            assert evil not in page, path
        assert "&lt;script&gt;" in c.get(f"/incidents/{incident}").text


def test_telegram_text_is_escaped_in_search(fresh_archive: WebArchive) -> None:
    from hujjat.bootstrap import open_archive
    from hujjat.ports.search import SearchDocument
    from hujjat.services.search import index_record

    archive = open_archive(fresh_archive.root)
    post = fresh_archive.posts["public"]  # a stored post (search hits of unknown records are not shown)
    index_record(archive.ports, SearchDocument("post", post, 'облава <img src=x onerror=alert(2)> в общежитии',
                                               title="<b>chat</b>", source="<i>channel</i>"))
    archive.close()
    with client_for(fresh_archive) as c:
        login(c, "view")
        page = c.get("/search?q=облава").text
        assert "onerror=alert(2)>" not in page and "<b>chat</b>" not in page and "<i>channel</i>" not in page
        assert "<mark>" in page  # highlighting survives


@pytest.mark.parametrize("path", [
    "/evidence/../../hujjat.toml/raw", "/evidence/..%2F..%2Fhujjat.toml/raw", "/evidence/%2e%2e%2fkeys/download",
    "/evidence/....//....//etc/passwd/raw", "/static/../hujjat.toml", "/static/%2e%2e/app.py",
    "/static/..%2f..%2fbootstrap.py", "/evidence/sha256:abc/raw", "/jobs/../../jobs.sqlite/progress",
])
def test_path_traversal_in_urls(client: TestClient, path: str) -> None:
    login(client, "boss")
    response = client.get(path)
    assert response.status_code in (400, 404), (path, response.status_code)
    assert "archive_id" not in response.text and "import " not in response.text


def test_guessing_ids_reveals_nothing(client: TestClient, web_archive: WebArchive) -> None:
    login(client, "view")
    restricted = web_archive.items["restricted"]
    unknown = new_id()
    a, b = client.get(f"/evidence/{restricted}"), client.get(f"/evidence/{unknown}")
    assert a.status_code == b.status_code == 404
    assert client.get(f"/evidence/{restricted[:8]}").status_code == 404  # no prefix lookups from the web
    api = {"Authorization": f"Bearer {web_archive.tokens['view']}"}
    assert client.get(f"/api/v1/incidents/{web_archive.incidents['restricted']}", headers=api).json() == \
        {"error": f"no incident matches {web_archive.incidents['restricted']!r}"}


def test_other_users_jobs_are_not_visible(fresh_archive: WebArchive) -> None:
    with client_for(fresh_archive) as c:
        csrf = login(c, "ed")
        r = c.post("/upload", data={"csrf_token": csrf, "kind": "files"}, follow_redirects=False,
                   files=[("files", ("a.txt", b"hello from ed", "text/plain"))])
        assert r.status_code == 303
        job = r.headers["location"]
        assert c.get(job).status_code == 200
        login(c, "edr")
        assert c.get(job).status_code == 404


def test_garbage_and_hostile_uploads(fresh_archive: WebArchive) -> None:
    with client_for(fresh_archive) as c:
        csrf = login(c, "ed")
        garbage = bytes(range(256)) * 64
        r = c.post("/upload", data={"csrf_token": csrf, "kind": "files"}, follow_redirects=False,
                   files=[("files", ("../../../escape.bin", garbage, "application/octet-stream")),
                          ("files", ("<b>x</b>.jpg", b"\xff\xd8\xff not really a jpeg", "image/jpeg"))])
        assert r.status_code == 303
        page = c.get(r.headers["location"]).text
        assert "done" in page and "<b>x</b>" not in page
        assert not (fresh_archive.root.parent / "escape.bin").exists()
        assert not (fresh_archive.root / "escape.bin").exists()
        listing = c.get("/evidence?name=escape").text
        assert "escape.bin" in listing
        # a zip that is not a Telegram export fails as a job with a reason, not a crash
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("not-an-export.txt", "hello")
        r = c.post("/upload", data={"csrf_token": csrf, "kind": "telegram"}, follow_redirects=False,
                   files=[("files", ("export.zip", buffer.getvalue(), "application/zip"))])
        page = c.get(r.headers["location"]).text
        assert "failed" in page
        # a viewer may not upload
        csrf = login(c, "view")
        r = c.post("/upload", data={"csrf_token": csrf, "kind": "files"}, files=[("files", ("a.txt", b"x", "text/plain"))])
        assert r.status_code == 403


def test_huge_upload_is_refused(fresh_archive: WebArchive, monkeypatch: pytest.MonkeyPatch) -> None:
    from hujjat.entrypoints.web import pages_more

    monkeypatch.setattr(pages_more, "MAX_UPLOAD_BYTES", 1024 * 1024)
    with client_for(fresh_archive) as c:
        csrf = login(c, "ed")
        r = c.post("/upload", data={"csrf_token": csrf, "kind": "files"},
                   files=[("files", ("big.bin", b"\0" * (3 * 1024 * 1024), "application/octet-stream"))])
        assert r.status_code == 413 and "larger than" in r.text
        assert not (fresh_archive.root / "uploads").exists() or not any((fresh_archive.root / "uploads").iterdir())
        # a body within the declared limit that grows past it while streaming is cut off as well
        monkeypatch.setattr(pages_more, "CHUNK", 1024 * 1024 * 8)
        r = c.post("/upload", data={"csrf_token": csrf, "kind": "files"},
                   files=[("files", ("big.bin", b"\0" * (3 * 1024 * 1024), "application/octet-stream"))])
        assert r.status_code == 413
        assert not any((fresh_archive.root / "uploads").iterdir())


def test_bytes_are_served_safely_with_ranges(client: TestClient, web_archive: WebArchive) -> None:
    login(client, "view")
    item = web_archive.items[XSS_NAME]
    full = client.get(f"/evidence/{item}/raw")
    assert full.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in full.headers["content-security-policy"]
    assert full.headers["content-type"].startswith("text/plain")
    part = client.get(f"/evidence/{item}/raw", headers={"Range": "bytes=1-6"})
    assert part.status_code == 206 and part.content == full.content[1:7]
    assert part.headers["content-range"] == f"bytes 1-6/{len(full.content)}"
    tail = client.get(f"/evidence/{item}/raw", headers={"Range": "bytes=-3"})
    assert tail.content == full.content[-3:]
    assert client.get(f"/evidence/{item}/raw", headers={"Range": "bytes=99999-"}).status_code == 416
    download = client.get(f"/evidence/{item}/download")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")


def test_pages_carry_security_headers(client: TestClient) -> None:
    page = client.get("/login")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_folder_upload_and_empty_file_inputs(fresh_archive: WebArchive) -> None:
    with client_for(fresh_archive) as c:
        csrf = login(c, "ed")
        r = c.post("/upload", data={"csrf_token": csrf, "kind": "files"}, follow_redirects=False,
                   files=[("files", ("", b"", "application/octet-stream")),
                          ("files", ("field/day1/a.txt", b"first", "text/plain")),
                          ("files", ("field/day2/a.txt", b"second", "text/plain"))])
        assert r.status_code == 303
        assert c.get("/evidence?name=a.txt").text.count('class="tile card"') == 2
        empty = c.post("/upload", data={"csrf_token": csrf, "kind": "files"},
                       files=[("files", ("", b"", "application/octet-stream"))])
        assert empty.status_code == 400
