"""The page capturer: headless Chromium (Debian's `chromium`) driven by Playwright.

Every response the page receives is paused through the DevTools `Fetch` domain so its body is
taken exactly as the server sent it. Playwright's own `response.body()` re-encodes text bodies as
UTF-8, which silently corrupts pages served in windows-1251 without a charset in Content-Type;
the raw bytes are what the WARC and the `html` artefact must hold. From those exchanges it writes
the WARC (and WACZ), keeps the page's images, takes a full-page PNG and a PDF, and fetches the
page's media (see media.py). Playwright never downloads a browser here: the executable is given.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, CDPSession, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from hujjat.domain.captures import ArtefactRole, CapturedFile, PageSnapshot, decode_document, html_text
from hujjat.domain.errors import HujjatError
from hujjat.intake.capture.media import fetch_media
from hujjat.intake.capture.warc import Exchange, write_wacz, write_warc

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MEDIA_QUERY = """() => {
  const out = [];
  for (const el of document.querySelectorAll('video, audio, video source, audio source')) {
    const src = el.currentSrc || el.src || el.getAttribute('src');
    if (src) out.push(new URL(src, document.baseURI).href);
  }
  for (const m of document.querySelectorAll('meta[property="og:video"], meta[property="og:video:url"]')) {
    if (m.content) out.push(new URL(m.content, document.baseURI).href);
  }
  return out;
}"""
EMBEDS_QUERY = "() => document.querySelectorAll('video, audio, iframe, embed, object').length"
# Images the page shows or means to show (lazy loaders keep the real URL in data-src / data-original).
IMAGES_QUERY = """() => {
  const out = [];
  for (const img of document.querySelectorAll('img')) {
    for (const src of [img.currentSrc, img.src, img.dataset.src, img.dataset.original, img.dataset.lazySrc]) {
      if (src) out.push(new URL(src, document.baseURI).href);
    }
  }
  return out;
}"""
MAX_EXTRA_IMAGES = 200
# Bodies are held in memory on their way into the WARC; larger ones (long videos the page streams)
# are left out of it with a warning, and media comes through media.py, which streams to disk.
MAX_WARC_BODY = 256 * 1024 * 1024
NET_ERRORS = {
    "ERR_NAME_NOT_RESOLVED": "DNS lookup failed",
    "ERR_NAME_RESOLUTION_FAILED": "DNS lookup failed",
    "ERR_CONNECTION_REFUSED": "connection refused",
    "ERR_CONNECTION_RESET": "connection reset",
    "ERR_CONNECTION_TIMED_OUT": "connection timed out",
    "ERR_TIMED_OUT": "timed out",
    "ERR_ADDRESS_UNREACHABLE": "address unreachable",
    "ERR_INTERNET_DISCONNECTED": "no network",
    "ERR_SSL_PROTOCOL_ERROR": "TLS error",
    "ERR_TOO_MANY_REDIRECTS": "too many redirects",
    "ERR_UNSAFE_PORT": "port refused by the browser",
    "ERR_EMPTY_RESPONSE": "empty response",
}


def chromium_path() -> Path:
    return Path(os.environ.get("HUJJAT_CHROMIUM", DEFAULT_CHROMIUM))


def describe_navigation_error(exc: Exception, timeout: float) -> str:
    """One line a monitor can understand: 'DNS lookup failed (net::ERR_NAME_NOT_RESOLVED)'."""
    if isinstance(exc, PlaywrightTimeout):
        return f"timed out after {timeout:g} s"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "net::" in text:
        code = text.split("net::", 1)[1].split()[0]
        if code.startswith("ERR_CERT") or code.startswith("ERR_SSL"):
            return f"TLS error (net::{code})"
        return f"{NET_ERRORS.get(code, 'network error')} (net::{code})"
    return text.removeprefix("Page.goto: ")


class _Recorder:
    """Pauses each response on a DevTools session, copies its raw body, lets it continue."""

    def __init__(self, session: CDPSession) -> None:
        self.session = session
        self.exchanges: list[Exchange] = []
        self.left_out: list[str] = []
        session.on("Fetch.requestPaused", self._paused)
        session.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Response"}]})

    def _paused(self, event: dict[str, Any]) -> None:
        request_id = event["requestId"]
        try:
            status = event.get("responseStatusCode")
            if status is not None and not event.get("responseErrorReason"):
                exchange = self._exchange(event, int(status))
                if exchange is not None:
                    self.exchanges.append(exchange)
        except PlaywrightError:
            pass  # the page went away or the body is unavailable (a redirect, a cancelled load)
        finally:
            with contextlib.suppress(PlaywrightError):
                self.session.send("Fetch.continueRequest", {"requestId": request_id})

    def _exchange(self, event: dict[str, Any], status: int) -> Exchange | None:
        request = event["request"]
        body = b""
        declared = next(
            (h["value"] for h in event.get("responseHeaders") or [] if h["name"].lower() == "content-length"),
            "",
        )
        if declared.strip().isdigit() and int(declared) > MAX_WARC_BODY:
            self.left_out.append(f"{request['url']}: {int(declared)} bytes, too large for the WARC; left out")
            return None
        if not 300 <= status < 400:
            got = self.session.send("Fetch.getResponseBody", {"requestId": event["requestId"]})
            body = base64.b64decode(got["body"]) if got.get("base64Encoded") else got["body"].encode("utf-8")
        post = request.get("postData")
        return Exchange(
            url=request["url"],
            method=request.get("method", "GET"),
            request_headers=[(str(k), str(v)) for k, v in request.get("headers", {}).items()],
            status=status,
            status_text=event.get("responseStatusText") or "",
            response_headers=[(h["name"], h["value"]) for h in event.get("responseHeaders") or []],
            body=body,
            resource_type=str(event.get("resourceType", "Other")),
            time=datetime.now(UTC),
            post_data=post.encode("utf-8") if isinstance(post, str) else None,
        )


class ChromiumCapturer:
    """A PageCapturer; use as a context manager (one browser, many captures)."""

    def __init__(
        self, executable: Path | None = None, fetch_page_media: bool = True, extra_args: Sequence[str] = ()
    ) -> None:
        self.executable = executable or chromium_path()
        self.fetch_page_media = fetch_page_media
        self.args = [*CHROMIUM_FLAGS, *extra_args]
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def __enter__(self) -> ChromiumCapturer:
        if not self.executable.is_file():
            raise HujjatError(
                f"no Chromium at {self.executable}: install Debian's `chromium` package "
                "or set HUJJAT_CHROMIUM to its path"
            )
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=str(self.executable), args=self.args, headless=True
            )
        except PlaywrightError as exc:
            self._playwright.stop()
            raise HujjatError(
                f"cannot start Chromium ({self.executable}): {str(exc).splitlines()[0]}"
            ) from None
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with contextlib.suppress(PlaywrightError):
            if self._browser is not None:
                self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self._browser = self._playwright = None

    @property
    def tool(self) -> str:
        version = self._browser.version if self._browser else "?"
        return f"chromium {version} via playwright"

    def capture(self, url: str, workdir: Path, timeout: float) -> PageSnapshot:
        if self._browser is None:
            raise RuntimeError("ChromiumCapturer used outside its `with` block")
        context = self._browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=False)
        try:
            page = context.new_page()
            page.set_default_timeout(timeout * 1000)
            recorder = _Recorder(context.new_cdp_session(page))
            snapshot = PageSnapshot(url=url, tool=self.tool)
            self._load(page, url, timeout, snapshot)
            main = self._main_document(recorder.exchanges, snapshot)
            if main is not None:
                self._describe_document(main, snapshot, workdir)
            if snapshot.status is not None:  # the server answered: the page shows something
                self._render(page, workdir, snapshot)
                self._fetch_unloaded_images(page, recorder.exchanges, timeout, snapshot)
                self._keep_images(recorder.exchanges, workdir, snapshot)
                if snapshot.error is None and self.fetch_page_media:
                    self._media(page, workdir, timeout, snapshot)
            snapshot.warnings.extend(recorder.left_out)
            self._archive(recorder.exchanges, workdir, snapshot)
        finally:
            with contextlib.suppress(PlaywrightError):
                context.close()
        return snapshot

    def _load(self, page: Page, url: str, timeout: float, snapshot: PageSnapshot) -> None:
        try:
            response = page.goto(url, wait_until="load", timeout=timeout * 1000)
        except PlaywrightError as exc:
            snapshot.error = describe_navigation_error(exc, timeout)
            return
        if response is None:
            snapshot.error = "the browser loaded nothing"
            return
        snapshot.final_url = response.url
        snapshot.status = response.status
        snapshot.status_text = response.status_text
        if response.status >= 400:
            snapshot.error = f"HTTP {response.status} {response.status_text}".strip()
        with contextlib.suppress(PlaywrightError):  # late resources: best effort, bounded
            page.wait_for_load_state("networkidle", timeout=min(timeout, 5.0) * 1000)
        with contextlib.suppress(PlaywrightError):  # scroll once so lazy images load
            page.evaluate("() => window.scrollTo(0, document.body ? document.body.scrollHeight : 0)")
            page.wait_for_timeout(300)
            page.evaluate("() => window.scrollTo(0, 0)")

    @staticmethod
    def _main_document(exchanges: list[Exchange], snapshot: PageSnapshot) -> Exchange | None:
        if snapshot.final_url is None:
            return None
        for ex in reversed(exchanges):
            if ex.url == snapshot.final_url and ex.resource_type == "Document":
                return ex
        return None

    @staticmethod
    def _describe_document(main: Exchange, snapshot: PageSnapshot, workdir: Path) -> None:
        """Keep the document's bytes as served; decode them for search when they are HTML or text
        (a URL may point straight at a picture or a PDF: then it is kept, named after the URL)."""
        snapshot.headers = [[name, value] for name, value in main.response_headers]
        content_type = (main.header("content-type") or "").split(";")[0].strip().lower()
        textual = not content_type or content_type.startswith("text/") or "html" in content_type
        name = "page.html" if textual else "document-" + (Path(urlsplit(main.url).path).name or "page")[-80:]
        path = workdir / name
        path.write_bytes(main.body)
        snapshot.files.append(CapturedFile(ArtefactRole.HTML, path, main.url))
        if not textual:
            return
        decoded = decode_document(main.body, main.header("content-type"))
        snapshot.encoding, snapshot.encoding_source = decoded.encoding, decoded.source
        snapshot.title, snapshot.text = html_text(decoded.text)

    @staticmethod
    def _render(page: Page, workdir: Path, snapshot: PageSnapshot) -> None:
        for role, path, action in (
            (ArtefactRole.SCREENSHOT, workdir / "screenshot.png", "screenshot"),
            (ArtefactRole.PDF, workdir / "page.pdf", "pdf"),
        ):
            try:
                if action == "screenshot":
                    page.screenshot(path=path, full_page=True)
                else:
                    page.emulate_media(media="screen")
                    page.pdf(path=path, print_background=True)
                snapshot.files.append(CapturedFile(role, path, snapshot.final_url))
            except PlaywrightError as exc:
                snapshot.warnings.append(f"{action} failed: {str(exc).splitlines()[0]}")

    @staticmethod
    def _fetch_unloaded_images(
        page: Page, exchanges: list[Exchange], timeout: float, snapshot: PageSnapshot
    ) -> None:
        """Fetch the <img> URLs the browser never loaded (lazy loading, data-src), into the WARC too."""
        try:
            wanted = [str(u) for u in page.evaluate(IMAGES_QUERY)]
        except PlaywrightError as exc:
            snapshot.warnings.append(f"could not list the page's images: {str(exc).splitlines()[0]}")
            return
        loaded = {ex.url for ex in exchanges}
        missing = [
            u for u in dict.fromkeys(wanted) if u not in loaded and urlsplit(u).scheme in ("http", "https")
        ]
        for url in missing[:MAX_EXTRA_IMAGES]:
            try:
                response = page.request.get(url, timeout=timeout * 1000, max_redirects=5)
                body = response.body()
            except PlaywrightError as exc:
                snapshot.warnings.append(f"image {url}: {str(exc).splitlines()[0]}")
                continue
            exchanges.append(
                Exchange(
                    url=response.url,
                    method="GET",
                    request_headers=[],
                    status=response.status,
                    status_text=response.status_text,
                    response_headers=[(h["name"], h["value"]) for h in response.headers_array],
                    body=body,
                    resource_type="Image",
                    time=datetime.now(UTC),
                )
            )
        if len(missing) > MAX_EXTRA_IMAGES:
            snapshot.warnings.append(f"{len(missing) - MAX_EXTRA_IMAGES} more unloaded images not fetched")

    @staticmethod
    def _keep_images(exchanges: list[Exchange], workdir: Path, snapshot: PageSnapshot) -> None:
        """Each distinct image the page loaded; the browser's own requests (favicon: type Other) are
        left to the WARC."""
        folder = workdir / "images"
        seen: set[bytes] = set()
        for index, ex in enumerate(exchanges):
            content_type = (ex.header("content-type") or "").lower()
            is_image = ex.resource_type == "Image" or content_type.startswith("image/")
            if not is_image or ex.resource_type == "Other" or ex.status != 200 or not ex.body:
                continue
            digest = hashlib.sha256(ex.body).digest()
            if digest in seen:
                continue
            seen.add(digest)
            folder.mkdir(exist_ok=True)
            name = Path(urlsplit(ex.url).path).name or "image"
            path = folder / f"{index:04d}-{name[-80:]}"
            path.write_bytes(ex.body)
            snapshot.files.append(CapturedFile(ArtefactRole.IMAGE, path, ex.url))

    def _media(self, page: Page, workdir: Path, timeout: float, snapshot: PageSnapshot) -> None:
        try:
            embeds = int(page.evaluate(EMBEDS_QUERY))
            sources = [str(s) for s in page.evaluate(MEDIA_QUERY)]
            user_agent = str(page.evaluate("() => navigator.userAgent"))
        except PlaywrightError as exc:
            snapshot.warnings.append(f"could not list the page's media: {str(exc).splitlines()[0]}")
            return
        if not embeds and not sources:
            return
        media, warnings = fetch_media(
            snapshot.final_url or snapshot.url, sources, workdir / "media", timeout, user_agent
        )
        snapshot.warnings.extend(warnings)
        snapshot.files.extend(CapturedFile(ArtefactRole.MEDIA, m.path, m.url) for m in media)

    @staticmethod
    def _archive(exchanges: list[Exchange], workdir: Path, snapshot: PageSnapshot) -> None:
        if not exchanges:
            return
        warc = workdir / "capture.warc.gz"
        info = {
            "software": f"hujjat ({snapshot.tool})",
            "format": "WARC File Format 1.1",
            "isPartOf": snapshot.url,
        }
        write_warc(warc, exchanges, info)
        snapshot.files.append(CapturedFile(ArtefactRole.WARC, warc, snapshot.url))
        wacz = workdir / "capture.wacz"
        try:
            write_wacz(warc, wacz, snapshot.final_url or snapshot.url, exchanges[0].time, snapshot.title)
            snapshot.files.append(CapturedFile(ArtefactRole.WACZ, wacz, snapshot.url))
        except Exception as exc:  # noqa: BLE001 - the WARC is kept whatever the packager does
            snapshot.warnings.append(f"WACZ packaging failed, WARC kept: {exc}")
