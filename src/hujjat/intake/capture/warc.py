"""Writing what the browser fetched as a WARC (ISO 28500) with warcio, and wrapping it as a WACZ.

Each HTTP exchange becomes a request record and a response record holding the body bytes exactly
as the server sent them after transfer decoding. The browser hands bodies over already
decompressed, so a `Content-Encoding` header is kept under `X-Archive-Orig-Content-Encoding` (the
pywb convention) and `Content-Length` is set to the stored length; replay tools then read the
records correctly. The HTTP version is not exposed by the browser and is written as HTTP/1.1.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REWRITTEN = ("content-encoding", "content-length", "transfer-encoding")


@dataclass
class Exchange:
    """One request the page made and the response it got."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    status_text: str
    response_headers: list[tuple[str, str]]
    body: bytes
    resource_type: str
    time: datetime
    post_data: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.response_headers if key.lower() == lowered), None)


def _archived_headers(exchange: Exchange) -> list[tuple[str, str]]:
    """The response headers, with those describing the transfer rather than the stored body
    renamed (kept, never dropped), and a Content-Length that matches the stored body."""
    length = str(len(exchange.body))
    encoded = exchange.header("content-encoding") is not None
    headers: list[tuple[str, str]] = []
    for name, value in exchange.response_headers:
        lowered = name.lower()
        if lowered == "content-length" and value.strip() == length and not encoded:
            headers.append((name, value))
        elif lowered in REWRITTEN:
            headers.append((f"X-Archive-Orig-{name}", value))
        else:
            headers.append((name, value))
    if not any(name.lower() == "content-length" for name, _ in headers):
        headers.append(("Content-Length", length))
    return headers


def _warc_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_warc(path: Path, exchanges: Iterable[Exchange], info: dict[str, str]) -> int:
    """Write a gzipped WARC at `path`; return how many exchanges it holds."""
    count = 0
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, info))
        for ex in exchanges:
            date = _warc_date(ex.time)
            target = ex.url.split("#", 1)[0]
            parts = target.split("/", 3)
            request_path = "/" + (parts[3] if len(parts) > 3 else "")
            request_line = f"{ex.method} {request_path}"
            req_headers = StatusAndHeaders(
                request_line, ex.request_headers, protocol="HTTP/1.1", is_http_request=True
            )
            response_headers = StatusAndHeaders(
                f"{ex.status} {ex.status_text}".strip(), _archived_headers(ex), protocol="HTTP/1.1"
            )
            response = writer.create_warc_record(
                target,
                "response",
                payload=io.BytesIO(ex.body),
                length=len(ex.body),
                http_headers=response_headers,
                warc_headers_dict={"WARC-Date": date},
            )
            request = writer.create_warc_record(
                target,
                "request",
                payload=io.BytesIO(ex.post_data or b""),
                length=len(ex.post_data or b""),
                http_headers=req_headers,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_request_response_pair(request, response)
            count += 1
    return count


def write_wacz(warc: Path, wacz: Path, url: str, moment: datetime, title: str | None) -> None:
    """Package the WARC as a WACZ (index, page list, datapackage) with the `wacz` tool, offline."""
    from wacz.main import main as wacz_main

    args = ["create", "-o", str(wacz), str(warc), "--url", url, "--ts", moment.strftime("%Y%m%d%H%M%S")]
    if title:
        args += ["--title", title]
    chatter = io.StringIO()
    with redirect_stdout(chatter):
        status = wacz_main(args)
    if status not in (0, None) or not wacz.exists():
        raise RuntimeError(f"wacz create failed: {json.dumps(chatter.getvalue()[-300:])}")
