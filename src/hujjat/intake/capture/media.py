"""Fetching the video and audio a captured page shows: yt-dlp (its Python API) first, since it
knows how hundreds of sites hide their media; then any <video>/<audio> source it did not get is
downloaded directly. Failures are warnings on the capture, never a failed capture: the page
itself was preserved.

yt-dlp runs with no configuration files, no cache, no plug-in updates and a socket timeout, on the
page URL only, so it talks to no host other than the page's own and what that page points at.
Formats are limited to single files (no ffmpeg merge needed).
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MAX_MEDIA_BYTES = 4 * 1024**3
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FetchedMedia:
    path: Path
    url: str
    via: str  # "yt-dlp" or "direct"


class _QuietLogger:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        self.messages.append(msg)

    def error(self, msg: str) -> None:
        self.messages.append(msg)


def _downloads(info: dict[str, Any]) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for entry in info.get("entries") or [info]:
        if not isinstance(entry, dict):
            continue
        for download in entry.get("requested_downloads") or []:
            filepath = download.get("filepath")
            if filepath and Path(filepath).is_file():
                found.append((Path(filepath), str(download.get("url") or entry.get("url") or "")))
    return found


def fetch_with_ytdlp(page_url: str, dest: Path, timeout: float) -> tuple[list[FetchedMedia], list[str]]:
    import yt_dlp  # imported here: it is slow to import and only captures need it

    dest.mkdir(parents=True, exist_ok=True)
    logger = _QuietLogger()
    options: dict[str, Any] = {
        "outtmpl": str(dest / "%(id).80s-%(format_id).40s.%(ext)s"),
        "format": "b/bv*/ba",
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": logger,
        "socket_timeout": timeout,
        "cachedir": False,
        "ignoreconfig": True,
        "restrictfilenames": True,
        "playlistend": 20,
        "max_filesize": MAX_MEDIA_BYTES,
        "retries": 1,
        "fragment_retries": 1,
    }
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(page_url, download=True)
    except Exception as exc:  # noqa: BLE001 - yt-dlp raises many kinds; a miss is only a warning
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "Unsupported URL" in text:
            return [], []
        return [], [f"yt-dlp: {text}"]
    if not isinstance(info, dict):
        return [], []
    media = [FetchedMedia(path, url or page_url, "yt-dlp") for path, url in _downloads(info)]
    noise = ("Unsupported URL", "Falling back on generic information extractor")
    return media, [f"yt-dlp: {m}" for m in logger.messages if not any(n in m for n in noise)]


def fetch_direct(url: str, dest: Path, timeout: float, user_agent: str | None = None) -> FetchedMedia:
    """Download one media URL as it is; raises OSError (urllib's errors) on failure."""
    dest.mkdir(parents=True, exist_ok=True)
    name = Path(urlsplit(url).path).name or "media"
    target = dest / f"direct-{len(list(dest.iterdir()))}-{name[-80:]}"
    request = urllib.request.Request(url, headers={"User-Agent": user_agent or "Mozilla/5.0"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, target.open("wb") as out:  # noqa: S310
            copied = 0
            while chunk := response.read(CHUNK):
                copied += len(chunk)
                if copied > MAX_MEDIA_BYTES:
                    raise OSError(f"more than {MAX_MEDIA_BYTES} bytes")
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return FetchedMedia(target, url, "direct")


def fetch_media(
    page_url: str, sources: list[str], dest: Path, timeout: float, user_agent: str | None = None
) -> tuple[list[FetchedMedia], list[str]]:
    """yt-dlp on the page, then every http(s) media source it did not already fetch."""
    media, warnings = fetch_with_ytdlp(page_url, dest / "yt-dlp", timeout)
    got = {m.url for m in media}
    for source in dict.fromkeys(sources):
        if source in got or urlsplit(source).scheme not in ("http", "https"):
            continue
        try:
            media.append(fetch_direct(source, dest / "direct", timeout, user_agent))
        except (OSError, ValueError) as exc:
            warnings.append(f"media {source}: {exc}")
    return media, warnings
