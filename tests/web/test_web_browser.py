"""Browser tests: Debian's Chromium driven by Playwright against `hujjat serve` on 127.0.0.1, with
the job queue consumer running in the server. Walks the main story (sign in, upload and watch the
job, create an incident, link evidence, a second user verifies it, search, map, timeline, export)
and takes screenshots of the key pages (docs/screenshots/ when asked)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.support import PASSWORD, WebArchive, build_archive

CHROMIUM = Path("/usr/bin/chromium")
# Screenshots go to a temporary folder unless HUJJAT_SCREENSHOTS names one (refresh the docs with
# HUJJAT_SCREENSHOTS=docs/screenshots pytest tests/web/test_web_browser.py), so a test run leaves
# the working tree clean.
SHOTS_ENV = "HUJJAT_SCREENSHOTS"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium package")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, WebArchive]]:
    web = build_archive(tmp_path_factory.mktemp("browser") / "archive")
    port = _free_port()
    env = {**os.environ, "HUJJAT_ARCHIVE": str(web.root)}
    proc = subprocess.Popen([sys.executable, "-m", "hujjat.entrypoints.cli.main", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode() if proc.stdout else "server died") from None
            time.sleep(0.2)
    try:
        yield url, web
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield b
        b.close()


def _sign_in(page: object, url: str, name: str) -> None:
    page.goto(f"{url}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/")  # type: ignore[attr-defined]


def test_the_main_story_in_a_real_browser(server: tuple[str, WebArchive], browser: object, tmp_path: Path) -> None:
    from hujjat.processing import synthetic

    url, _web = server
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    photo = synthetic.make_photo(tmp_path / "raid <b>dorm.jpg", width=640, height=480, seed=7,
                                 gps=(56.8389, 60.6057))
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{url}/login")
    page.screenshot(path=str(shots / "login.png"))
    _sign_in(page, url, "edr")

    # upload a photo and watch the background job finish (htmx polls the progress fragment)
    page.goto(f"{url}/upload")
    page.set_input_files("input[name=files]", str(photo))
    page.click("form[action='/upload'] button[type=submit]")
    page.wait_for_url(f"{url}/jobs/*")
    assert page.evaluate("typeof htmx") == "object"  # the progress fragment polls until the job ends
    page.wait_for_selector("#job.done", timeout=30_000)
    assert "raid &lt;b&gt;dorm.jpg" in page.content()  # the file name is shown as text, not markup
    page.screenshot(path=str(shots / "upload-job.png"))
    item_id = page.locator("#job a").first.inner_text()

    page.goto(f"{url}/evidence")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shots / "evidence.png"))
    page.goto(f"{url}/evidence/{item_id}")
    page.wait_for_function("document.querySelector('.viewer img').naturalWidth > 0")
    page.screenshot(path=str(shots / "evidence-detail.png"), full_page=True)

    # create an incident and link the photo to it
    page.goto(f"{url}/incidents/new")
    page.fill("input[name=title]", "Raid on a workers' dormitory")
    page.select_option("select[name=type]", "detention")
    page.fill("input[name=date]", "2026-03-04")
    page.fill("input[name=place]", "Yekaterinburg")
    page.fill("textarea[name=description]", "Police checked documents; two men were taken away.")
    page.fill("input[name=detained]", "2")
    page.click("form[action='/incidents/new'] button[type=submit]")
    page.wait_for_url(f"{url}/incidents/*")
    incident_url = page.url
    page.fill("input[name=target]", item_id)
    page.select_option("select[name=role]", "depicts")
    page.fill("form[action$='/link'] input[name=note]", "photo from the yard")
    page.click("form[action$='/link'] button[type=submit]")
    page.wait_for_selector(f"a[href='/evidence/{item_id}']")
    page.click("form[action='/logout'] button")

    # a second user reviews: corroborated, then verified (the two-person rule is satisfied)
    _sign_in(page, url, "revr")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    for state in ("corroborated", "verified"):
        page.goto(incident_url)
        page.select_option("form[action$='/review'] select[name=state]", state)
        page.fill("form[action$='/review'] textarea[name=note]", f"checked: {state}")
        page.click("form[action$='/review'] button[type=submit]")
        page.wait_for_selector(f".state.{state}")
    page.screenshot(path=str(shots / "incident.png"), full_page=True)

    page.goto(f"{url}/search?q=dormitory")
    assert page.locator(".hits li").count() >= 1
    assert page.locator(".snippet mark").count() >= 1
    page.screenshot(path=str(shots / "search.png"), full_page=True)

    page.goto(f"{url}/map")
    page.wait_for_selector("#map[data-loaded]")
    assert int(page.get_attribute("#map", "data-loaded") or 0) >= 1
    assert page.locator("path.leaflet-interactive").count() > 100  # country outlines drawn offline
    page.screenshot(path=str(shots / "map.png"))

    page.goto(f"{url}/timeline")
    page.wait_for_selector("#timeline[data-loaded]")
    page.screenshot(path=str(shots / "timeline.png"))

    page.goto(f"{url}/exports")
    with page.expect_download() as download_info:
        page.click("form[action='/exports/incidents'] button[type=submit]")
    csv_path = download_info.value.path()
    assert csv_path and "Raid on a workers" in Path(csv_path).read_text(encoding="utf-8")
    assert not errors, errors
    context.close()
