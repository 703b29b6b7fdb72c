"""Incident forms: create, edit (a full form, as the browser posts it), link and review, with the
service's rules surfacing as readable errors."""

from __future__ import annotations

from tests.web.support import WebArchive, client_for, login

FORM = {"title": "Checkpoint on the highway", "type": "detention", "date": "2026-03-06", "place": "Kazan",
        "latitude": "55.79", "longitude": "49.12", "description": "Two buses stopped.", "actors": "",
        "targets": "", "tags": "road, buses", "sensitivity": "internal", "detained": "4"}


def test_create_edit_link_review(fresh_archive: WebArchive) -> None:
    with client_for(fresh_archive) as c:
        csrf = login(c, "ed")
        r = c.post("/incidents/new", data={**FORM, "csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        url = r.headers["location"]
        edit_form = c.get(f"{url}/edit").text
        assert 'value="Checkpoint on the highway"' in edit_form and 'value="4"' in edit_form
        r = c.post(f"{url}/edit", data={**FORM, "title": "Checkpoint on the M7 highway", "detained": "5",
                                        "csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303
        page = c.get(url).text
        assert "Checkpoint on the M7 highway" in page and "detained: 5" in page and "edited" in page
        same = c.post(f"{url}/edit", data={**FORM, "title": "Checkpoint on the M7 highway", "detained": "5",
                                           "csrf_token": csrf})
        assert same.status_code == 400 and "nothing changed" in same.text
        future = c.post("/incidents/new", data={**FORM, "date": "2999-01-01", "csrf_token": csrf})
        assert future.status_code == 400 and "in the future" in future.text
        csrf = login(c, "rev")
        bad = c.post(f"{url}/review", data={"state": "verified", "note": "too early", "csrf_token": csrf})
        assert bad.status_code == 400  # unverified -> verified is not a transition
        for state in ("corroborated", "verified"):
            assert c.post(f"{url}/review", data={"state": state, "note": "ok", "csrf_token": csrf},
                          follow_redirects=False).status_code == 303
        csrf = login(c, "ed")
        c.post(f"{url}/edit", data={**FORM, "title": "Checkpoint on the M7", "detained": "5", "csrf_token": csrf})
        assert "corroborated" in c.get(url).text  # an edit of a verified incident needs verifying again
