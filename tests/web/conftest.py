"""Fixtures for the web tests: one archive per session (built once: language models load slowly),
and a signed-out TestClient per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.support import WebArchive, build_archive, client_for

XSS_NAME = '<img src=x onerror=alert(1)>.txt'


@pytest.fixture(scope="session")
def web_archive(tmp_path_factory: pytest.TempPathFactory) -> WebArchive:
    root = tmp_path_factory.mktemp("web") / "archive"
    return build_archive(root, files={XSS_NAME: b"<script>alert('note')</script>\n"})


@pytest.fixture
def client(web_archive: WebArchive) -> Iterator[TestClient]:
    with client_for(web_archive) as c:
        yield c


@pytest.fixture
def fresh_archive(tmp_path: Path) -> WebArchive:
    """An archive of the test's own, for tests that change it."""
    return build_archive(tmp_path / "archive")
