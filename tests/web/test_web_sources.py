"""Posts and captures pages: a Telegram export uploaded through the web becomes posts, shown with
their text escaped."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from tests.telegram_exports import message, write_export
from tests.web.support import WebArchive, client_for, login

EVIL = '<script>alert("tg")</script> облава в общежитии'


def _export_zip(tmp_path: Path) -> bytes:
    folder = write_export(tmp_path / "export", {"name": "Raid <b>Watch</b>", "type": "public_channel", "id": 42,
                                                "messages": [message(1, EVIL), message(2, "second post")]})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in folder.rglob("*"):
            z.write(path, path.relative_to(folder.parent))
    return buffer.getvalue()


def test_telegram_upload_becomes_posts_shown_escaped(fresh_archive: WebArchive, tmp_path: Path) -> None:
    with client_for(fresh_archive) as c:
        csrf = login(c, "ed")
        r = c.post("/upload", data={"csrf_token": csrf, "kind": "telegram"}, follow_redirects=False,
                   files=[("files", ("export.zip", _export_zip(tmp_path), "application/zip"))])
        assert r.status_code == 303
        job = c.get(r.headers["location"]).text
        assert "done" in job, job
        posts = c.get("/posts").text
        assert "second post" in posts and EVIL not in posts and "<b>Watch</b>" not in posts
        post_id = posts.split('href="/posts/', 1)[1].split('"', 1)[0]
        page = c.get(f"/posts/{post_id}")
        assert page.status_code == 200 and "<script>alert" not in page.text
        found = c.get("/search?q=облава").text
        assert "<mark>" in found and "<script>alert" not in found
        assert c.get("/captures").status_code == 200
        assert c.get("/posts/01ARZ3NDEKTSV4RRFFQ69G5FAV").status_code == 404
        assert c.get("/captures/01ARZ3NDEKTSV4RRFFQ69G5FAV").status_code == 404
