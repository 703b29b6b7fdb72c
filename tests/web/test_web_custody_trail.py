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
