"""The authorization matrix: every endpoint x every role x every sensitivity. A record above a
user's clearance must be invisible everywhere (404 for its pages and bytes, absent from lists,
search, map, timeline and exports); actions need the role's right (403 otherwise)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from hujjat.domain.accounts import SENSITIVITIES, Right, Role, User
from tests.web.support import USERS, WebArchive, client_for, login


def _user(name: str) -> User:
    role, restricted = USERS[name]
    return User(id="x", name=name, role=Role(role), password_hash="", restricted_access=restricted)


@pytest.fixture(scope="module")
def signed_in(web_archive: WebArchive) -> dict[str, TestClient]:
    clients = {}
    for name in USERS:
        c = client_for(web_archive)
        c.__enter__()
        login(c, name)
        clients[name] = c
    return clients


def _marker(level: str) -> list[str]:
    return [f"{level} incident", f"{level}-note.txt", f"{level.title()}ville", f"{level}-post-marker",
            f"{level}-capture-marker", f"{level} captured page", f"{level.title()} channel"]


@pytest.mark.parametrize("name", sorted(USERS))
def test_detail_pages_and_bytes(name: str, signed_in: dict[str, TestClient], web_archive: WebArchive) -> None:
    c, user = signed_in[name], _user(name)
    token = {"Authorization": f"Bearer {web_archive.tokens[name]}"}
    for level in SENSITIVITIES:
        item, incident = web_archive.items[level], web_archive.incidents[level]
        post, capture = web_archive.posts[level], web_archive.captures[level]
        expected = 200 if user.can_view(level) else 404
        for path in (f"/evidence/{item}", f"/evidence/{item}/raw", f"/evidence/{item}/download",
                     f"/incidents/{incident}", f"/posts/{post}", f"/captures/{capture}"):
            assert c.get(path).status_code == expected, (name, level, path)
        for path in (f"/api/v1/evidence/{item}", f"/api/v1/incidents/{incident}", f"/api/v1/posts/{post}",
                     f"/api/v1/captures/{capture}"):
            assert c.get(path, headers=token).status_code == expected, (name, level, path)
        edit = c.get(f"/incidents/{incident}/edit").status_code
        assert edit == (expected if user.can(Right.EDIT_INCIDENTS) else 403), (name, level)


@pytest.mark.parametrize("name", sorted(USERS))
def test_lists_search_map_and_exports_hide_what_is_above_clearance(
        name: str, signed_in: dict[str, TestClient], web_archive: WebArchive) -> None:
    c, user = signed_in[name], _user(name)
    token = {"Authorization": f"Bearer {web_archive.tokens[name]}"}
    pages = [c.get(p).text for p in ("/", "/evidence", "/incidents", "/posts", "/captures", "/search?q=secret",
                                     "/search?q=incident", "/search?q=telegram", "/search?q=captured",
                                     "/map/incidents.geojson")]
    pages += [c.get(p, headers=token).text for p in ("/api/v1/evidence", "/api/v1/incidents", "/api/v1/posts",
                                                       "/api/v1/captures", "/api/v1/search?q=secret",
                                                       "/api/v1/search?q=incident", "/api/v1/search?q=telegram")]
    csrf = login(c, name)
    if user.can(Right.EXPORT):
        for fmt in ("acled", "geojson"):
            response = c.post("/exports/incidents", data={"fmt": fmt, "csrf_token": csrf})
            assert response.status_code == 200
            pages.append(response.text)
    else:
        assert c.post("/exports/incidents", data={"fmt": "acled", "csrf_token": csrf}).status_code == 403
    text = "\n".join(pages)
    for level in SENSITIVITIES:
        ids = [web_archive.items[level], web_archive.incidents[level], web_archive.posts[level],
               web_archive.captures[level]]
        for needle in ids + _marker(level):
            assert (needle in text) == user.can_view(level), (name, level, needle)
    timeline = c.get("/timeline/data.json").json()
    assert sum(sum(s["counts"]) for s in timeline["series"]) == sum(user.can_view(lv) for lv in SENSITIVITIES)
    assert c.get("/api/v1/search?q=secret", headers=token).json()["approximate"] is False  # small: exact


@pytest.mark.parametrize("name", sorted(USERS))
def test_actions_need_the_right(name: str, web_archive: WebArchive) -> None:
    user = _user(name)
    with client_for(web_archive) as c:
        csrf = login(c, name)
        api_boss = {"Authorization": f"Bearer {web_archive.tokens['boss']}"}
        public = c.post("/api/v1/incidents", headers=api_boss, json={
            "title": f"fresh for {name}", "type": "detention", "date": "2026-02-01", "latitude": "41.3",
            "longitude": "69.2", "place": "Tashkent", "sensitivity": "public"}).json()["id"]
        restricted = web_archive.incidents["restricted"]
        checks = [
            (Right.ADMIN, "/admin/users", {"name": f"new-{name}", "role": "viewer", "password": "0123456789abc"}),
            (Right.EDIT_INCIDENTS, f"/incidents/{public}/link", {"target": web_archive.items["public"], "role": "reports"}),
            (Right.REVIEW, f"/incidents/{public}/review", {"state": "disputed", "note": f"by {name}"}),
        ]
        for right, path, data in checks:
            code = c.post(path, data={**data, "csrf_token": csrf}, follow_redirects=False).status_code
            assert (code == 303) == user.can(right), (name, path, code)
            assert code in (303, 400, 403), (name, path, code)
        # an action on a record above clearance is "not found", whatever the role
        code = c.post(f"/incidents/{restricted}/review", data={"state": "disputed", "note": "x", "csrf_token": csrf},
                      follow_redirects=False).status_code
        if not user.can_view("restricted"):
            assert code in (403, 404)
        api = {"Authorization": f"Bearer {web_archive.tokens[name]}"}
        created = c.post("/api/v1/incidents", headers=api, json={"title": f"api {name}", "type": "detention",
                                                                  "date": "2026-02-02", "latitude": "41.3",
                                                                  "longitude": "69.2", "place": "Tashkent"})
        assert (created.status_code == 201) == user.can(Right.EDIT_INCIDENTS), (name, created.text)
        linked_restricted = c.post(f"/incidents/{public}/link", follow_redirects=False,
                                   data={"target": web_archive.items["restricted"], "csrf_token": csrf})
        if user.can(Right.EDIT_INCIDENTS) and not user.can_view("restricted"):
            assert linked_restricted.status_code == 404


def test_views_of_restricted_records_are_custody_entries(web_archive: WebArchive) -> None:
    from hujjat.bootstrap import open_archive

    with client_for(web_archive) as c:
        login(c, "viewr")
        assert c.get(f"/evidence/{web_archive.items['restricted']}").status_code == 200
        assert c.get(f"/incidents/{web_archive.incidents['restricted']}").status_code == 200
        assert c.get(f"/posts/{web_archive.posts['restricted']}").status_code == 200
        assert c.get(f"/api/v1/captures/{web_archive.captures['restricted']}",
                     headers={"Authorization": f"Bearer {web_archive.tokens['viewr']}"}).status_code == 200
        c.get(f"/evidence/{web_archive.items['public']}")
        c.get(f"/posts/{web_archive.posts['public']}")
    archive = open_archive(web_archive.root)
    with archive.ports.uow(read_only=True) as tx:
        entries = tx.custody.entries_for([web_archive.items["restricted"], web_archive.incidents["restricted"],
                                          web_archive.items["public"], web_archive.posts["restricted"],
                                          web_archive.captures["restricted"], web_archive.posts["public"]])
    archive.close()
    views = [(e.actor, e.subject, e.details["kind"]) for e in entries if e.action == "record.viewed"]
    assert ("viewr", web_archive.items["restricted"], "item") in views
    assert ("viewr", web_archive.incidents["restricted"], "incident") in views
    assert ("viewr", web_archive.posts["restricted"], "post") in views
    assert ("viewr", web_archive.captures["restricted"], "capture") in views
    assert not any(subject in (web_archive.items["public"], web_archive.posts["public"]) for _, subject, _ in views)


def test_dashboard_counts_only_what_the_user_may_see(web_archive: WebArchive) -> None:
    from hujjat.bootstrap import open_archive
    from hujjat.services.access import dashboard
    from hujjat.services.accounts import get_user

    archive = open_archive(web_archive.root)
    cleared = dashboard(archive.ports, get_user(archive.ports, "viewr"))["counts"]
    other = dashboard(archive.ports, get_user(archive.ports, "view"))["counts"]
    archive.close()
    for table in ("items", "incidents", "posts", "captures"):
        assert cleared[table] - other[table] == 1, table


def test_lists_and_searches_showing_restricted_records_are_logged(fresh_archive: WebArchive) -> None:
    from hujjat.bootstrap import open_archive

    with client_for(fresh_archive) as c:
        login(c, "viewr")
        c.get("/evidence")
        c.get("/incidents")
        c.get("/posts")
        c.get("/captures")
        c.get("/search?q=secret")
        c.get("/timeline/data.json")  # counts only: not a view
        login(c, "view")
        c.get("/evidence")
        c.get("/api/v1/incidents", headers={"Authorization": f"Bearer {fresh_archive.tokens['viewr']}"})
    archive = open_archive(fresh_archive.root)
    with archive.ports.uow(read_only=True) as tx:
        entries = [json.loads(stored.body) for stored in tx.custody.iter_entries()]
    archive.close()
    listed = [(e["actor"], e["details"]["kind"], e["details"]["via"], e["details"]["ids"])
              for e in entries if e["action"] == "records.listed"]
    assert ("viewr", "item", "web", [fresh_archive.items["restricted"]]) in listed
    assert ("viewr", "incident", "web", [fresh_archive.incidents["restricted"]]) in listed
    assert ("viewr", "post", "web", [fresh_archive.posts["restricted"]]) in listed
    assert ("viewr", "capture", "web", [fresh_archive.captures["restricted"]]) in listed
    searched = [ids for actor, kind, via, ids in listed if kind == "search"]
    assert len(searched) == 1 and sorted(searched[0]) == sorted(
        [fresh_archive.items["restricted"], fresh_archive.posts["restricted"], fresh_archive.captures["restricted"]])
    assert ("viewr", "incident", "api", [fresh_archive.incidents["restricted"]]) in listed
    assert not any(actor == "view" for actor, *_ in listed)
    assert len(listed) == 7  # and the dashboard's verification queue, seen after signing in


@pytest.mark.parametrize("kind", ["evidence", "posts", "captures"])
def test_editors_set_the_sensitivity_of_items_posts_and_captures(kind: str, fresh_archive: WebArchive) -> None:
    from hujjat.bootstrap import open_archive

    records = {"evidence": fresh_archive.items, "posts": fresh_archive.posts, "captures": fresh_archive.captures}[kind]
    public, restricted = records["public"], records["restricted"]
    with client_for(fresh_archive) as c:
        csrf = login(c, "view")  # a viewer may not
        assert c.post(f"/{kind}/{public}/sensitivity", data={"level": "internal", "csrf_token": csrf}).status_code == 403
        csrf = login(c, "ed")  # an editor without clearance: not above it, not on what is above it
        assert c.post(f"/{kind}/{public}/sensitivity", data={"level": "internal"}).status_code == 403  # no CSRF token
        assert c.post(f"/{kind}/{public}/sensitivity",
                      data={"level": "restricted", "csrf_token": csrf}).status_code == 400
        assert c.post(f"/{kind}/{restricted}/sensitivity",
                      data={"level": "public", "csrf_token": csrf}).status_code == 404
        moved = c.post(f"/{kind}/{public}/sensitivity", data={"level": "internal", "csrf_token": csrf},
                       follow_redirects=False)
        assert moved.status_code == 303
        api = {"Authorization": f"Bearer {fresh_archive.tokens['edr']}"}
        assert c.put(f"/api/v1/{kind}/{public}/sensitivity", headers=api, json={"level": "restricted"}).json() == {
            "id": public, "kind": {"evidence": "item", "posts": "post", "captures": "capture"}[kind],
            "sensitivity": "restricted"}
        assert c.get(f"/{kind}/{public}").status_code == 404  # now above the editor's clearance
        viewer = {"Authorization": f"Bearer {fresh_archive.tokens['view']}"}
        assert c.put(f"/api/v1/{kind}/{public}/sensitivity", headers=viewer,
                     json={"level": "public"}).status_code in (403, 404)
        assert c.put(f"/api/v1/{kind}/{public}/sensitivity", headers=api, json={"level": "secret"}).status_code == 422
    archive = open_archive(fresh_archive.root)
    with archive.ports.uow(read_only=True) as tx:
        changes = [(e.actor, e.action, e.details) for e in tx.custody.entries_for([public])
                   if e.action.endswith(".sensitivity_changed")]
    archive.close()
    noun = {"evidence": "item", "posts": "post", "captures": "capture"}[kind]
    assert changes == [("ed", f"{noun}.sensitivity_changed", {"from": "public", "to": "internal"}),
                       ("edr", f"{noun}.sensitivity_changed", {"from": "internal", "to": "restricted"})]
