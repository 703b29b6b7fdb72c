"""The per-process session cache (entrypoints.web.sessions): a signed-in user is kept in memory,
yet sign-out, revocation and account changes made by any process count on the next request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from hujjat.adapters.credentials import fast_credentials
from hujjat.bootstrap import open_archive
from hujjat.domain.accounts import Role, User, WebSession
from hujjat.entrypoints.web.auth import SESSION_COOKIE
from hujjat.entrypoints.web.sessions import SessionCache
from hujjat.services.accounts import update_user
from tests.web.support import WebArchive, client_for, login

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _found(expires: datetime = NOW + timedelta(hours=1)) -> tuple[User, WebSession]:
    user = User("u1", "ann", Role.VIEWER, "hash", False, None, "en", "UTC", True, NOW)
    return user, WebSession("h", "u1", "csrf", NOW, expires)


def test_kept_until_the_signal_changes(tmp_path: Path) -> None:
    signal = tmp_path / "db-accounts"
    signal.write_bytes(b"")
    cache = SessionCache(signal)
    assert cache.get("sid", NOW) is None
    assert cache.read("sid", _found) == _found()
    assert cache.get("sid", NOW) == _found()
    assert cache.get("sid", NOW + timedelta(hours=2)) is None  # expired: never answered from memory
    with signal.open("ab") as handle:  # another process signed someone out
        handle.write(b".")
    assert cache.get("sid", NOW) is None


def test_an_answer_read_while_the_signal_changed_is_not_kept(tmp_path: Path) -> None:
    signal = tmp_path / "db-accounts"
    signal.write_bytes(b"")
    cache = SessionCache(signal)

    def load_during_a_change() -> tuple[User, WebSession]:
        with signal.open("ab") as handle:
            handle.write(b".")
        return _found()

    assert cache.read("sid", load_during_a_change) == _found()
    assert cache.get("sid", NOW) is None


def test_nothing_is_kept_without_a_signal(tmp_path: Path) -> None:
    for cache in (SessionCache(None), SessionCache(tmp_path / "missing")):
        cache.read("sid", _found)
        assert cache.get("sid", NOW) is None


def _sid(client: TestClient) -> str:
    sid = client.cookies.get(SESSION_COOKIE)
    assert sid
    return sid


def test_a_page_view_keeps_the_session_in_memory(fresh_archive: WebArchive) -> None:
    with client_for(fresh_archive) as c:
        login(c, "view")
        assert c.get("/evidence").status_code == 200
        found = c.app.state.ctx.sessions.get(_sid(c), datetime.now(UTC))  # type: ignore[attr-defined]
        assert found is not None and found[0].name == "view"


def test_sign_out_in_one_process_ends_the_session_in_the_others(fresh_archive: WebArchive) -> None:
    with client_for(fresh_archive) as first, client_for(fresh_archive) as second:
        csrf = login(first, "view")
        second.cookies.set(SESSION_COOKIE, _sid(first))
        assert second.get("/evidence").status_code == 200  # now kept in the second process
        assert first.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
        r = second.get("/evidence", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_account_changes_from_the_command_line_count_at_once(fresh_archive: WebArchive) -> None:
    """`hujjat user ...` runs in its own process: a new language shows on the next page, and a
    deactivation or a role change ends the sessions every server process keeps."""
    with client_for(fresh_archive) as c:
        login(c, "view")
        assert c.get("/evidence").status_code == 200
        archive = open_archive(fresh_archive.root)
        try:
            update_user(archive.ports, fast_credentials(), "view", language="ru")
            assert 'lang="ru"' in c.get("/evidence").text
            update_user(archive.ports, fast_credentials(), "view", active=False)
            assert c.get("/evidence", follow_redirects=False).status_code == 303
            update_user(archive.ports, fast_credentials(), "view", active=True)
            login(c, "view")
            assert c.get("/evidence").status_code == 200
            update_user(archive.ports, fast_credentials(), "view", role="editor")
            assert c.get("/evidence", follow_redirects=False).status_code == 303
        finally:
            archive.close()


def test_a_revoked_api_token_stops_working_at_once(fresh_archive: WebArchive) -> None:
    """The token's user is kept after the first call; `hujjat user revoke` in another process ends it."""
    from hujjat.services.accounts import revoke_tokens

    auth = {"Authorization": f"Bearer {fresh_archive.tokens['ed']}"}
    with client_for(fresh_archive) as c:
        assert c.get("/api/v1/evidence", headers=auth).status_code == 200
        kept = c.app.state.ctx.tokens.get(fresh_archive.tokens["ed"], datetime.now(UTC))  # type: ignore[attr-defined]
        assert kept is not None and kept.name == "ed"
        archive = open_archive(fresh_archive.root)
        try:
            revoke_tokens(archive.ports, "ed")
        finally:
            archive.close()
        assert c.get("/api/v1/evidence", headers=auth).status_code == 401
