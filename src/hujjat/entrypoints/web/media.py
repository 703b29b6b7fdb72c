"""Serving stored bytes to the browser: HTTP Range requests (for video seeking) and safe headers.

Only media types a browser displays harmlessly are served inline (images, audio, video, plain
text); everything else is an attachment of type application/octet-stream. Every byte response
carries a sandboxing Content-Security-Policy and nosniff, so a hostile file cannot script the site.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

from fastapi.responses import Response, StreamingResponse

from hujjat.domain.evidence import EvidenceItem
from hujjat.ports import BlobStore

CHUNK = 256 * 1024
INLINE = re.compile(r"^(image/(jpeg|png|gif|webp|bmp)|video/(mp4|webm|ogg|quicktime)|audio/(mpeg|ogg|wav|webm|mp4|flac)|"
                    r"text/plain)$")
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(start, end inclusive), None for the whole body, False when unsatisfiable."""
    if not header:
        return None
    match = RANGE_RE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None  # malformed or multi-range: ignore the header, send everything
    if not match.group(1):
        length = int(match.group(2))
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) else size - 1
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)


def _chunks(store: BlobStore, sha256: str, start: int, length: int) -> Iterator[bytes]:
    with store.open(sha256) as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            data = handle.read(min(CHUNK, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data


def serve_bytes(store: BlobStore, item: EvidenceItem, range_header: str | None, download: bool,
                name: str | None) -> Response:
    media = item.media_type.split(";")[0].strip().lower()
    inline = bool(INLINE.match(media)) and not download
    filename = SAFE_NAME.sub("_", name or item.id)[:120] or item.id
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; media-src 'self'",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename=\"{filename}\"; "
                               f"filename*=UTF-8''{quote(name or item.id, safe='')[:400]}",
        "Cache-Control": "private, max-age=3600",
        "ETag": f'"{item.sha256}"',
    }
    media_type = media if inline else "application/octet-stream"
    if inline and media == "text/plain":
        media_type = "text/plain; charset=utf-8"
    span = _range(range_header, item.size)
    if span is False:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{item.size}"})
    if span is None or span is True:
        headers["Content-Length"] = str(item.size)
        return StreamingResponse(_chunks(store, item.sha256, 0, item.size), media_type=media_type, headers=headers)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{item.size}"
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(_chunks(store, item.sha256, start, end - start + 1), status_code=206,
                             media_type=media_type, headers=headers)
