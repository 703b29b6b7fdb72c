"""The web application on PostgreSQL: sign-in, access rules and an incident round trip (the other
web tests run on the embedded SQLite default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.support import build_archive, client_for, login

pytestmark = pytest.mark.postgres


def test_web_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    web = build_archive(tmp_path / "archive", database=pg_database)
    with client_for(web) as c:
        assert c.app.state.ctx.sessions.signal is None  # type: ignore[attr-defined]  # no signal file: nothing kept
        csrf = login(c, "ed")
        assert c.get(f"/evidence/{web.items['restricted']}").status_code == 404
        assert c.get(f"/evidence/{web.items['internal']}").status_code == 200
        r = c.post("/incidents/new", follow_redirects=False, data={
            "csrf_token": csrf, "title": "Checkpoint", "type": "detention", "date": "2026-03-05",
            "latitude": "41.31", "longitude": "69.28"})
        assert r.status_code == 303
        incident = r.headers["location"]
        c.post(f"{incident}/link", data={"csrf_token": csrf, "target": web.items["public"], "role": "depicts"})
        csrf = login(c, "revr")
        r = c.post(f"{incident}/review", data={"csrf_token": csrf, "state": "corroborated", "note": "two sources"},
                   follow_redirects=False)
        assert r.status_code == 303
        page = c.get(incident).text
        assert "corroborated" in page and web.items["public"] in page
        listed = c.get("/incidents").text  # the list page reads stored records (page_records)
        assert incident.rsplit("/", 1)[1] in listed and "Checkpoint" in listed
        api = c.get("/api/v1/evidence", headers={"Authorization": f"Bearer {web.tokens['view']}"}).json()
        assert api["total"] == 2
        login(c, "ed")
        for kind, records in (("posts", web.posts), ("captures", web.captures)):
            assert c.get(f"/{kind}/{records['restricted']}").status_code == 404
            listed = c.get(f"/api/v1/{kind}", headers={"Authorization": f"Bearer {web.tokens['view']}"}).json()
            assert listed["total"] == 2 and records["restricted"] not in str(listed)


def test_login_rate_limit_shared_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    from tests.web.support import csrf_of

    web = build_archive(tmp_path / "archive", database=pg_database)
    with client_for(web) as first, client_for(web) as second:
        codes = []
        for i in range(11):
            c = first if i % 2 else second
            token = csrf_of(c.get("/login").text)
            codes.append(c.post("/login", data={"username": "view", "password": f"wrong {i}",
                                                "csrf_token": token}).status_code)
        assert codes == [401] * 10 + [429]
