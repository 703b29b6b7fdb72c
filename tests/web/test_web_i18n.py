"""UI languages: every template string has a Russian translation, and a user's language and time
zone are used."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient

from hujjat.adapters.credentials import fast_credentials
from hujjat.bootstrap import open_archive
from hujjat.entrypoints.web.i18n import translator
from hujjat.services.accounts import update_user
from tests.web.support import WebArchive, client_for, login

WEB = Path(__file__).resolve().parents[2] / "src" / "hujjat" / "entrypoints" / "web"


def test_every_template_string_is_translated_to_russian() -> None:
    ru = translator("ru")
    found = {message for _, _, message, _, _ in extract_from_dir(
        str(WEB), method_map=[("templates/**.html", "jinja2")])}
    assert len(found) > 100
    missing = sorted(str(m) for m in found if isinstance(m, str) and ru.gettext(m) == m)
    assert not missing, f"add Russian for: {missing}"


def test_language_and_time_zone_per_user(fresh_archive: WebArchive) -> None:
    archive = open_archive(fresh_archive.root)
    update_user(archive.ports, fast_credentials(), "viewr", language="ru", timezone="Asia/Tashkent")
    archive.close()
    with client_for(fresh_archive) as c:
        login(c, "viewr")
        page = c.get(f"/incidents/{fresh_archive.incidents['public']}").text
        assert "Журнал хранения" in page and 'lang="ru"' in page
        # custody times are stored in UTC and shown in Tashkent time (UTC+5) with Russian month names
        assert "нояб." in page or "дек." in page or "г.," in page
        login(c, "view")
        assert "Custody trail" in c.get(f"/incidents/{fresh_archive.incidents['public']}").text


def test_login_page_language_follows_cookie(client: TestClient) -> None:
    client.cookies.set("hujjat_lang", "ru")
    assert "Вход в архив." in client.get("/login").text
