"""Media fetching for captures, without a browser: the direct download that backs up yt-dlp."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hujjat.intake.capture import media
from tests.integration.capture_site import Site, serve


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve(tmp_path_factory.mktemp("site")) as running:
        yield running


def test_sources_ytdlp_missed_are_downloaded_directly(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media, "fetch_with_ytdlp", lambda url, dest, timeout: ([], ["yt-dlp: nothing here"]))
    sources = [site.url("/clip.mp4"), site.url("/clip.mp4"), "blob:http://x/1", site.url("/gone.mp4")]
    fetched, warnings = media.fetch_media(site.url("/media.html"), sources, tmp_path, 5.0)
    assert [(m.url, m.via) for m in fetched] == [(site.url("/clip.mp4"), "direct")]
    assert (
        hashlib.sha256(fetched[0].path.read_bytes()).digest()
        == hashlib.sha256(site.files["/clip.mp4"][2]).digest()
    )
    assert warnings[0] == "yt-dlp: nothing here"
    assert len(warnings) == 2 and "gone.mp4" in warnings[1] and "404" in warnings[1]
    assert sorted(p.name for p in (tmp_path / "direct").iterdir()) == [
        fetched[0].path.name
    ]  # no partial file left


def test_media_ytdlp_already_fetched_is_not_downloaded_twice(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = media.FetchedMedia(tmp_path / "x.mp4", site.url("/clip.mp4"), "yt-dlp")
    monkeypatch.setattr(media, "fetch_with_ytdlp", lambda url, dest, timeout: ([got], []))
    fetched, warnings = media.fetch_media(site.url("/media.html"), [site.url("/clip.mp4")], tmp_path, 5.0)
    assert (fetched, warnings) == ([got], [])
