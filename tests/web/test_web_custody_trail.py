"""The evidence page's custody trail (issue 7): newest first, 50 entries a page with an htmx "more"
row, the record.viewed entries (one per view of a restricted item, so without bound) left out and
counted, and listed on their own behind "show views"."""

from __future__ import annotations

import re

from tests.web.support import WebArchive, client_for, login

ROW = re.compile(r"<tr><td>(\d+)</td>")


def _seqs(html: str) -> list[int]:
    return [int(s) for s in ROW.findall(html)]


def test_trail_pages_and_collapses_views(fresh_archive: WebArchive) -> None:
    item = fresh_archive.items["restricted"]
    with client_for(fresh_archive) as c:
        login(c, "viewr")
        for _ in range(59):
            assert c.get(f"/api/v1/evidence/{item}",
                         headers={"Authorization": f"Bearer {fresh_archive.tokens['viewr']}"}).status_code == 200
        page = c.get(f"/evidence/{item}").text  # the 60th view
        assert "Viewed 60×" in page and f'href="/evidence/{item}/custody?views=1"' in page
        assert "record.viewed" not in page  # the views are counted, not listed
        others = _seqs(page.split("Custody trail", 1)[1])
        assert others and others == sorted(others, reverse=True)  # acquisition etc., newest first

        first = c.get(f"/evidence/{item}/custody?views=1", headers={"HX-Request": "true"}).text
        assert "<html" not in first and first.count("record.viewed") == 50
        seqs = _seqs(first)
        nxt = re.search(r'hx-get="([^"]+)"', first)
        assert nxt and f"before={seqs[-1]}" in nxt.group(1).replace("&amp;", "&")
        rest = c.get(nxt.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).text
        rest_seqs = _seqs(rest)
        assert rest.count("record.viewed") == len(rest_seqs) >= 10 and 'hx-get' not in rest
        assert max(rest_seqs) < min(seqs)
        plain = c.get(f"/evidence/{item}/custody?views=1")  # without JavaScript: a page of its own
        assert plain.status_code == 200 and "<html" in plain.text and plain.text.count("record.viewed") == 50

        login(c, "view")  # not cleared: the trail is as absent as the item
        assert c.get(f"/evidence/{item}/custody?views=1").status_code == 404
        assert c.get(f"/evidence/{fresh_archive.items['public']}/custody").status_code == 200


def test_api_detail_gives_the_first_page_and_pages_the_rest(fresh_archive: WebArchive) -> None:
    """GET /api/v1/evidence/{id} no longer returns the whole trail: the first page without its
    record.viewed entries, their number, and /custody pages through the rest (views too)."""
    item = fresh_archive.items["restricted"]
    auth = {"Authorization": f"Bearer {fresh_archive.tokens['viewr']}"}
    with client_for(fresh_archive) as c:
        for _ in range(59):
            assert c.get(f"/api/v1/evidence/{item}", headers=auth).status_code == 200
        detail = c.get(f"/api/v1/evidence/{item}", headers=auth).json()  # the 60th view
        actions = [e["action"] for e in detail["custody"]]
        assert "record.viewed" not in actions and "item.added" in actions
        assert detail["custody_views"] == 60 and detail["custody_next"] is None
        seqs = [e["seq"] for e in detail["custody"]]
        assert seqs == sorted(seqs, reverse=True)
        first = c.get(f"/api/v1/evidence/{item}/custody", params={"views": "true", "limit": 50}, headers=auth).json()
        assert [e["action"] for e in first["entries"]] == ["record.viewed"] * 50 and first["more"]
        rest = c.get(f"/api/v1/evidence/{item}/custody",
                     params={"views": "true", "before": first["next"], "limit": 50}, headers=auth).json()
        assert 10 <= len(rest["entries"]) < 50 and not rest["more"] and rest["next"] is None
        assert max(e["seq"] for e in rest["entries"]) < min(e["seq"] for e in first["entries"])
        not_cleared = {"Authorization": f"Bearer {fresh_archive.tokens['view']}"}
        assert c.get(f"/api/v1/evidence/{item}/custody", headers=not_cleared).status_code == 404
        assert c.get(f"/api/v1/evidence/{item}/custody", params={"limit": 0}, headers=auth).status_code == 422


def test_post_capture_and_incident_trails_are_paged(fresh_archive: WebArchive) -> None:
    """Posts, captures and incidents show and return their trails like evidence items: views
    counted and listed only behind "show views", 50 entries a page; a post's trail includes the
    entry of the import that added it."""
    from hujjat.bootstrap import open_archive

    records = {"posts": fresh_archive.posts["restricted"], "captures": fresh_archive.captures["restricted"],
               "incidents": fresh_archive.incidents["restricted"]}
    opened = open_archive(fresh_archive.root)
    try:
        with opened.ports.uow() as tx:
            batch = tx.posts.custody_batch(records["posts"])
            assert batch
            tx.custody.append("setup", "telegram.imported", batch, {"posts": 1})
    finally:
        opened.close()
    auth = {"Authorization": f"Bearer {fresh_archive.tokens['viewr']}"}
    with client_for(fresh_archive) as c:
        login(c, "viewr")
        for path, record in records.items():
            for _ in range(54):
                assert c.get(f"/api/v1/{path}/{record}", headers=auth).status_code == 200
            detail = c.get(f"/api/v1/{path}/{record}", headers=auth).json()
            assert detail["custody_views"] == 55 and "record.viewed" not in [e["action"] for e in detail["custody"]]
            page = c.get(f"/{path}/{record}").text  # the 56th view
            assert "Viewed 56×" in page and f'href="/{path}/{record}/custody?views=1"' in page
            assert "record.viewed" not in page
            rows = c.get(f"/{path}/{record}/custody?views=1", headers={"HX-Request": "true"}).text
            assert "<html" not in rows and rows.count("record.viewed") == 50
            more = re.search(r'hx-get="([^"]+)"', rows)
            assert more and "before=" in more.group(1)
            rest = c.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).text
            assert rest.count("record.viewed") == 6 and "hx-get" not in rest  # 56 views: 50 + 6
        post = c.get(f"/api/v1/posts/{records['posts']}", headers=auth).json()
        assert "telegram.imported" in [e["action"] for e in post["custody"]]
        assert "telegram.imported" in c.get(f"/posts/{records['posts']}").text
        login(c, "view")  # not cleared: the trails are as absent as the records
        for path, record in records.items():
            assert c.get(f"/{path}/{record}/custody").status_code == 404
            assert c.get(f"/api/v1/{path}/{record}/custody",
                         headers={"Authorization": f"Bearer {fresh_archive.tokens['view']}"}).status_code == 404
