"""`hujjat capture` end to end against a local web site, with the system's headless Chromium.

One browser is shared by this module's tests (they call the service); test_capture_cli.py runs the
command itself, in a module of its own because Playwright's sync API allows one running instance
per thread. Skipped (with the reason) where /usr/bin/chromium is not installed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from hujjat.bootstrap import open_archive
from hujjat.domain.captures import CaptureState
from hujjat.intake.capture.browser import ChromiumCapturer, chromium_path
from hujjat.services.capture import CaptureResult, capture_detail, capture_url
from tests.integration.capture_site import RUSSIAN, Site, serve, serve_untrusted_tls

pytestmark = pytest.mark.skipif(
    not chromium_path().is_file(),
    reason=f"no Chromium at {chromium_path()} (apt-get install -y chromium, or set HUJJAT_CHROMIUM)",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve(tmp_path_factory.mktemp("site")) as running:
        yield running


# No DNS query leaves the machine: this one name is made unresolvable inside the browser.
UNRESOLVABLE = "no-such-host.hujjat.test"


@pytest.fixture(scope="module")
def capturer() -> Iterator[ChromiumCapturer]:
    with ChromiumCapturer(extra_args=[f"--host-resolver-rules=MAP {UNRESOLVABLE} ~NOTFOUND"]) as browser:
        yield browser


@pytest.fixture(scope="module")
def tls_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_untrusted_tls(tmp_path_factory.mktemp("tls")) as base:
        yield base


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _capture(
    archive_root: Path, capturer: ChromiumCapturer, url: str, timeout: float = 10.0
) -> CaptureResult:
    archive = open_archive(archive_root, "tester")
    try:
        return capture_url(archive.ports, capturer, url, note="from a test", timeout=timeout)
    finally:
        archive.close()


def _blob(archive_root: Path, sha256: str) -> bytes:
    return (archive_root / "store" / "objects" / sha256[:2] / sha256[2:4] / sha256).read_bytes()


def _warc_responses(data: bytes) -> dict[str, tuple[int, bytes]]:
    found = {}
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "response":
            status = int(record.http_headers.get_statuscode())
            found[record.rec_headers.get_header("WARC-Target-URI")] = (status, record.content_stream().read())
    return found


def _roles(result: CaptureResult) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    for artefact in result.artefacts:
        roles.setdefault(artefact.role, []).append(artefact.sha256)
    return roles


@pytest.mark.slow
def test_page_with_image_and_video(sqlite_archive: Path, capturer: ChromiumCapturer, site: Site) -> None:
    result = _capture(sqlite_archive, capturer, site.url("/media.html"))
    capture = result.capture
    assert capture.state is CaptureState.OK, capture.error
    assert (capture.status, capture.final_url, capture.title) == (200, site.url("/media.html"), "Media page")
    assert ["X-Test", "hujjat"] in capture.headers
    assert capture.started_at <= (capture.finished_at or capture.started_at)
    roles = _roles(result)
    assert {"warc", "wacz", "screenshot", "pdf", "html", "image", "media"} <= roles.keys()
    sha = {path: hashlib.sha256(body).hexdigest() for path, (_, _, body) in site.files.items()}
    assert sha["/photo.png"] in roles["image"]  # the page's own image, whole
    assert sha["/lazy.png"] in roles["image"]  # one a lazy loader never asked for
    assert len(roles["image"]) == len(set(roles["image"]))  # the same bytes twice are one artefact
    assert sha["/favicon.ico"] not in roles["image"]  # the browser's own request, not the page's
    assert sha["/clip.mp4"] in roles["media"]  # the video, whole, not a Range fragment
    assert roles["html"] == [sha["/media.html"]]
    assert _blob(sqlite_archive, roles["screenshot"][0]).startswith(b"\x89PNG")
    assert _blob(sqlite_archive, roles["pdf"][0]).startswith(b"%PDF")
    wacz = _blob(sqlite_archive, roles["wacz"][0])
    assert wacz.startswith(b"PK")
    responses = _warc_responses(gzip.decompress(_blob(sqlite_archive, roles["warc"][0])))
    assert responses[site.url("/media.html")] == (200, site.files["/media.html"][2])
    assert responses[site.url("/photo.png")] == (200, site.files["/photo.png"][2])

    archive = open_archive(sqlite_archive)
    try:
        detail = capture_detail(archive.ports, capture.id[:10].lower())
        with archive.ports.uow(read_only=True) as tx:
            media_item = tx.items.get_by_sha256(sha["/clip.mp4"])
            assert media_item is not None
            acquisitions = tx.items.acquisitions(media_item.id)
    finally:
        archive.close()
    assert [e["action"] for e in detail["custody"]] == ["capture.started", "capture.finished"]
    finished = detail["custody"][1]["details"]
    assert {a["role"] for a in finished["artefacts"]} == set(roles)
    assert [(a.source_kind, a.source, a.note) for a in acquisitions] == [
        ("capture", capture.id, "from a test")
    ]
    assert media_item.media_type == "video/mp4"


def test_redirect_records_the_final_url_and_every_hop(
    sqlite_archive: Path, capturer: ChromiumCapturer, site: Site
) -> None:
    result = _capture(sqlite_archive, capturer, site.url("/redirect"))
    assert result.capture.state is CaptureState.OK
    assert (result.capture.url, result.capture.final_url) == (site.url("/redirect"), site.url("/plain.html"))
    warc = _blob(sqlite_archive, _roles(result)["warc"][0])
    responses = _warc_responses(gzip.decompress(warc))
    assert responses[site.url("/redirect")][0] == 302
    assert responses[site.url("/plain.html")][0] == 200
    assert "media" not in _roles(result)  # nothing to fetch, and yt-dlp was not even asked


@pytest.mark.parametrize(
    ("path", "encoding", "source"),
    [
        ("/cyr-meta.html", "cp1251", "meta"),
        ("/cyr-none.html", "cp1251", "guess"),
        ("/utf8-none.html", "utf-8", "utf-8"),
    ],
)
def test_cyrillic_page_without_charset_in_content_type(
    sqlite_archive: Path, capturer: ChromiumCapturer, site: Site, path: str, encoding: str, source: str
) -> None:
    result = _capture(sqlite_archive, capturer, site.url(path))
    capture = result.capture
    assert capture.state is CaptureState.OK, capture.error
    assert (capture.encoding, capture.encoding_source) == (encoding, source)
    assert capture.title == "Рейд"
    assert RUSSIAN in (capture.text or "")
    raw = site.files[path][2]
    assert _blob(sqlite_archive, _roles(result)["html"][0]) == raw  # the bytes as served, never re-encoded


def test_404_is_a_failed_capture_that_keeps_what_the_server_showed(
    sqlite_archive: Path, capturer: ChromiumCapturer, site: Site
) -> None:
    result = _capture(sqlite_archive, capturer, site.url("/gone"))
    assert result.capture.state is CaptureState.FAILED
    assert result.capture.status == 404
    assert result.capture.error == "HTTP 404 Not Found"
    assert {"warc", "html", "screenshot"} <= _roles(result).keys()


@pytest.mark.parametrize(
    ("path", "timeout", "reason"),
    [
        ("/slow", 1.0, "timed out after 1 s"),
        ("closed-port", 5.0, "connection refused (net::ERR_CONNECTION_REFUSED)"),
        ("dns", 5.0, "DNS lookup failed (net::ERR_NAME_NOT_RESOLVED)"),
        ("tls", 5.0, "TLS error (net::ERR_CERT_AUTHORITY_INVALID)"),
    ],
)
def test_network_failures_are_recorded(
    sqlite_archive: Path,
    capturer: ChromiumCapturer,
    site: Site,
    tls_site: str,
    path: str,
    timeout: float,
    reason: str,
) -> None:
    url = {
        "closed-port": f"http://127.0.0.1:{_closed_port()}/",
        "dns": f"http://{UNRESOLVABLE}/page",
        "tls": f"{tls_site}/plain.html",
    }.get(path) or site.url(path)
    result = _capture(sqlite_archive, capturer, url, timeout=timeout)
    assert result.capture.state is CaptureState.FAILED
    assert result.capture.error == reason
    assert result.capture.status is None
    archive = open_archive(sqlite_archive)
    try:
        detail = capture_detail(archive.ports, result.capture.id)
    finally:
        archive.close()
    assert [e["action"] for e in detail["custody"]] == ["capture.started", "capture.failed"]
    assert detail["custody"][1]["details"]["error"] == reason


def test_a_url_that_is_a_picture_is_kept_as_served(
    sqlite_archive: Path, capturer: ChromiumCapturer, site: Site
) -> None:
    result = _capture(sqlite_archive, capturer, site.url("/photo.png"))
    assert result.capture.state is CaptureState.OK
    roles = _roles(result)
    assert roles["html"] == [hashlib.sha256(site.files["/photo.png"][2]).hexdigest()]
    assert result.capture.text is None and result.capture.encoding is None
    assert {"screenshot", "pdf", "warc"} <= roles.keys()
