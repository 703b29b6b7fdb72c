"""Sign-in, sessions, CSRF, rate limiting, API tokens and TOTP."""

from __future__ import annotations

import time

import pyotp
from fastapi.testclient import TestClient

from hujjat.adapters.credentials import fast_credentials
from hujjat.bootstrap import open_archive
from hujjat.entrypoints.web.auth import SESSION_COOKIE
from hujjat.services.accounts import get_user, set_totp
from tests.web.support import PASSWORD, WebArchive, client_for, csrf_of, login


def test_pages_need_a_session(client: TestClient) -> None:
    for path in ("/", "/evidence", "/incidents", "/search?q=x", "/map", "/admin/users"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_login_form_is_plain_html_with_csrf_field(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert '<form method="post" action="/login">' in page.text
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert 'type="hidden" name="csrf_token"' in page.text
    assert "<script" not in page.text


def test_sign_in_sets_a_hardened_cookie_and_sign_out_ends_it(client: TestClient) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"username": "view", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
                           follow_redirects=False)
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1
    home = client.get("/")
    assert home.status_code == 200 and "view" in home.text
    client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_secure_cookie_behind_tls(web_archive: WebArchive) -> None:
    with client_for(web_archive) as c:
        c.base_url = c.base_url.copy_with(scheme="https")  # type: ignore[misc]
        page = c.get("https://127.0.0.1/login")
        response = c.post("https://127.0.0.1/login", follow_redirects=False,
                          data={"username": "view", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
        assert "Secure" in cookie


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    a = client.post("/login", data={"username": "view", "password": "wrong password!", "csrf_token": token})
    b = client.post("/login", data={"username": "nobody", "password": "wrong password!", "csrf_token": token})
    assert a.status_code == b.status_code == 401
    assert "Wrong user name, password or code." in a.text and "Wrong user name, password or code." in b.text


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "view", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_session_fixation_a_planted_id_is_replaced(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-session-id", domain="127.0.0.1", path="/")
    login(client, "view")
    assert client.cookies.get(SESSION_COOKIE) != "attacker-chosen-session-id"
    # a victim's session id changes at every sign-in, so one seen before sign-in is useless after it
    first = client.cookies.get(SESSION_COOKIE)
    login(client, "view")
    assert client.cookies.get(SESSION_COOKIE) != first
    stale = TestClient(client.app, base_url="http://127.0.0.1")
    stale.cookies.set(SESSION_COOKIE, str(first), domain="127.0.0.1", path="/")
    assert stale.get("/", follow_redirects=False).status_code == 303


def test_state_changing_forms_need_the_csrf_token(client: TestClient, web_archive: WebArchive) -> None:
    login(client, "boss")
    incident = web_archive.incidents["public"]
    attempts = [
        ("/incidents/new", {"title": "x", "type": "detention", "date": "2026-01-01", "place": "Moscow"}),
        (f"/incidents/{incident}/review", {"state": "disputed", "note": "csrf"}),
        (f"/incidents/{incident}/link", {"target": web_archive.items["public"]}),
        (f"/evidence/{web_archive.items['public']}/sensitivity", {"level": "restricted"}),
        ("/admin/users", {"name": "mallory", "role": "admin", "password": "0123456789ab"}),
        ("/account", {"language": "ru"}),
        ("/exports/incidents", {"fmt": "acled"}),
        ("/logout", {}),
    ]
    for path, data in attempts:
        for token in (None, "forged-token"):
            body = dict(data, **({"csrf_token": token} if token else {}))
            response = client.post(path, data=body, follow_redirects=False)
            assert response.status_code == 403, (path, token, response.status_code)
    assert "mallory" not in client.get("/admin/users").text
    assert client.get("/", follow_redirects=False).status_code == 200  # logout was refused too


def test_login_rate_limit(fresh_archive: WebArchive) -> None:
    with client_for(fresh_archive) as c:
        token = csrf_of(c.get("/login").text)
        codes = [c.post("/login", data={"username": "view", "password": f"wrong {i} password", "csrf_token": token}).status_code
                 for i in range(12)]
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
        right = c.post("/login", data={"username": "view", "password": PASSWORD, "csrf_token": token})
        assert right.status_code == 429  # even the right password waits


def test_login_rate_limit_is_shared_by_server_processes_and_restarts(fresh_archive: WebArchive) -> None:
    """Two app instances on one archive (two worker processes, or before and after a restart)
    count the same failures: the counters are in the database."""
    def fail(c: TestClient, user: str, times: int) -> list[int]:
        token = csrf_of(c.get("/login").text)
        return [c.post("/login", data={"username": user, "password": f"wrong {i}", "csrf_token": token}).status_code
                for i in range(times)]

    with client_for(fresh_archive) as first, client_for(fresh_archive) as second:
        assert fail(first, "view", 6) == [401] * 6
        assert fail(second, "view", 4) == [401] * 4
        assert fail(first, "view", 1) == [429] and fail(second, "view", 1) == [429]
    with client_for(fresh_archive) as restarted:
        token = csrf_of(restarted.get("/login").text)
        right = restarted.post("/login", data={"username": "view", "password": PASSWORD, "csrf_token": token})
        assert right.status_code == 429  # the lock-out outlives the processes that counted it
        # the client address is locked too (10 failures from it), whatever name it tries
        assert fail(restarted, "ed", 1) == [429]
        later = time.time() + 301  # past the window and the lock-out
        restarted.app.state.ctx.limiter.clock = lambda: later  # type: ignore[attr-defined]
        ok = restarted.post("/login", data={"username": "view", "password": PASSWORD, "csrf_token": token},
                            follow_redirects=False)
        assert ok.status_code == 303


def test_login_failures_from_many_addresses_lock_the_user_name(fresh_archive: WebArchive) -> None:
    from hujjat.services.accounts import count_failed_sign_in, sign_in_locked

    archive = open_archive(fresh_archive.root)
    try:
        now = time.time()
        for i in range(9):
            count_failed_sign_in(archive.ports, [f"ip:10.0.0.{i}", "user:view"], now + i)
        assert not sign_in_locked(archive.ports, ["ip:10.0.0.99", "user:view"], now + 9)
        count_failed_sign_in(archive.ports, ["ip:10.0.0.99", "user:view"], now + 9)
        assert sign_in_locked(archive.ports, ["ip:10.0.0.100", "user:view"], now + 10)
        assert not sign_in_locked(archive.ports, ["ip:10.0.0.1", "user:ed"], now + 10)  # one failure there
        assert not sign_in_locked(archive.ports, ["user:view"], now + 9 + 301)  # the lock-out ends
        count_failed_sign_in(archive.ports, ["user:view"], now + 9 + 301)  # a new window starts at 1
        assert not sign_in_locked(archive.ports, ["user:view"], now + 9 + 302)
    finally:
        archive.close()


def test_totp_second_factor(fresh_archive: WebArchive) -> None:
    archive = open_archive(fresh_archive.root)
    creds = fast_credentials()
    secret = creds.new_totp_secret()
    set_totp(archive.ports, creds, get_user(archive.ports, "view"), secret, pyotp.TOTP(secret).now())
    archive.close()
    with client_for(fresh_archive) as c:
        token = csrf_of(c.get("/login").text)
        without = c.post("/login", data={"username": "view", "password": PASSWORD, "csrf_token": token})
        assert without.status_code == 401
        ok = c.post("/login", follow_redirects=False, data={"username": "view", "password": PASSWORD,
                                                           "totp": pyotp.TOTP(secret).now(), "csrf_token": token})
        assert ok.status_code == 303


def test_api_bearer_tokens(client: TestClient, web_archive: WebArchive) -> None:
    assert client.get("/api/v1/evidence").status_code == 401
    assert client.get("/api/v1/evidence", headers={"Authorization": "Bearer hjt_not-a-token"}).status_code == 401
    ok = client.get("/api/v1/evidence", headers={"Authorization": f"Bearer {web_archive.tokens['view']}"})
    assert ok.status_code == 200 and ok.json()["total"] >= 1
    # session cookies do not authenticate the API (so it has no CSRF surface)
    login(client, "boss")
    assert client.get("/api/v1/evidence").status_code == 401


def test_revoked_token_stops_working(fresh_archive: WebArchive) -> None:
    from hujjat.services.accounts import revoke_tokens

    archive = open_archive(fresh_archive.root)
    revoke_tokens(archive.ports, "ed")
    archive.close()
    with client_for(fresh_archive) as c:
        assert c.get("/api/v1/evidence", headers={"Authorization": f"Bearer {fresh_archive.tokens['ed']}"}).status_code == 401
        assert c.get("/api/v1/evidence", headers={"Authorization": f"Bearer {fresh_archive.tokens['view']}"}).status_code == 200


def test_no_open_redirect_after_sign_in(client: TestClient) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/evidence"):
        token = csrf_of(client.get("/login?next=//evil.example/x").text)
        response = client.post("/login", follow_redirects=False, data={
            "username": "view", "password": PASSWORD, "csrf_token": token, "next": target})
        assert response.headers["location"] == ("/evidence" if target == "/evidence" else "/")


def test_admin_resets_a_password_and_revokes_tokens(fresh_archive: WebArchive) -> None:
    with client_for(fresh_archive) as c:
        csrf = login(c, "boss")
        assert c.post("/admin/users/view/password", data={"csrf_token": csrf, "password": "a brand new password"},
                      follow_redirects=False).status_code == 303
        assert c.post("/admin/users/view/revoke", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
        assert c.get("/api/v1/evidence", headers={"Authorization": f"Bearer {fresh_archive.tokens['view']}"}
                     ).status_code == 401
        login(c, "view", "a brand new password")
        csrf = csrf_of(c.get("/").text)
        assert c.post("/admin/users/ed/password", data={"csrf_token": csrf, "password": "x" * 12}).status_code == 403
