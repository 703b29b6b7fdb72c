"""How browser failures become one-line reasons, and how responses are recorded from DevTools events."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from hujjat.intake.capture.browser import MAX_WARC_BODY, _Recorder, describe_navigation_error


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            "Page.goto: net::ERR_NAME_NOT_RESOLVED at http://x.invalid/",
            "DNS lookup failed (net::ERR_NAME_NOT_RESOLVED)",
        ),
        (
            "Page.goto: net::ERR_CERT_AUTHORITY_INVALID at https://x/",
            "TLS error (net::ERR_CERT_AUTHORITY_INVALID)",
        ),
        (
            "Page.goto: net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH at https://x/",
            "TLS error (net::ERR_SSL_VERSION_OR_CIPHER_MISMATCH)",
        ),
        (
            "Page.goto: net::ERR_CONNECTION_REFUSED at http://x/",
            "connection refused (net::ERR_CONNECTION_REFUSED)",
        ),
        ("Page.goto: net::ERR_SOMETHING_NEW at http://x/", "network error (net::ERR_SOMETHING_NEW)"),
        (
            "Page.goto: Navigation failed because page crashed!\nCall log: ...",
            "Navigation failed because page crashed!",
        ),
    ],
)
def test_navigation_errors_read_as_one_line(message: str, reason: str) -> None:
    assert describe_navigation_error(PlaywrightError(message), 30) == reason


def test_timeouts_name_the_limit() -> None:
    assert (
        describe_navigation_error(PlaywrightTimeout("Page.goto: Timeout 2500ms exceeded."), 2.5)
        == "timed out after 2.5 s"
    )


class FakeSession:
    """Stands in for a DevTools session: records what the recorder sends, serves bodies."""

    def __init__(self, bodies: dict[str, dict[str, object]]) -> None:
        self.bodies = bodies
        self.sent: list[tuple[str, str | None]] = []
        self.handler: Callable[[dict[str, Any]], None] | None = None

    def on(self, event: str, handler: Callable[[dict[str, Any]], None]) -> None:
        self.handler = handler

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, object]:
        request_id = (params or {}).get("requestId")
        self.sent.append((method, request_id))
        if method == "Fetch.getResponseBody":
            return self.bodies[str(request_id)]
        return {}


def _paused(
    request_id: str, status: int | None, headers: list[tuple[str, str]], **extra: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "requestId": request_id,
        "request": {"url": f"http://site/{request_id}", "method": "GET", "headers": {"Accept": "*/*"}},
        "resourceType": "Document",
        "responseHeaders": [{"name": k, "value": v} for k, v in headers],
        **extra,
    }
    if status is not None:
        event["responseStatusCode"] = status
        event["responseStatusText"] = "OK"
    return event


def test_recorder_keeps_raw_bodies_and_always_lets_requests_continue() -> None:
    raw = "Привет".encode("cp1251")
    session = FakeSession({"page": {"body": base64.b64encode(raw).decode(), "base64Encoded": True}})
    recorder = _Recorder(session)  # type: ignore[arg-type]
    assert session.handler is not None
    session.handler(_paused("page", 200, [("Content-Type", "text/html")]))
    session.handler(_paused("hop", 302, [("Location", "/page")]))
    session.handler(_paused("huge", 200, [("Content-Length", str(MAX_WARC_BODY + 1))]))
    session.handler(_paused("dns", None, [], responseErrorReason="NameNotResolved"))
    assert [(e.url, e.status, e.body) for e in recorder.exchanges] == [
        ("http://site/page", 200, raw),
        ("http://site/hop", 302, b""),
    ]
    assert recorder.exchanges[0].request_headers == [("Accept", "*/*")]
    assert len(recorder.left_out) == 1 and "http://site/huge" in recorder.left_out[0]
    continued = [rid for method, rid in session.sent if method == "Fetch.continueRequest"]
    assert continued == ["page", "hop", "huge", "dns"]
    fetched = [rid for method, rid in session.sent if method == "Fetch.getResponseBody"]
    assert fetched == ["page"]
