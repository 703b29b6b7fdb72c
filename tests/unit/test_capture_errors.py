"""How browser failures become one-line reasons on a failed capture."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from hujjat.intake.capture.browser import describe_navigation_error


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
