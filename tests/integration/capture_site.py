"""A small local web site for capture tests, served on 127.0.0.1 from a thread.

Pages: one with an image, a lazy-loaded image (data-src only) and a video, a redirect, a 404, a slow response, and Cyrillic pages
served without a charset in Content-Type (declared only in a <meta>, or not at all, in
windows-1251 and in UTF-8). Everything is generated here; nothing leaves the machine.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from hujjat.processing.synthetic import make_png, make_video

RUSSIAN = "Сотрудники военкомата проверяли документы у входа в метро"


def _html(body: str, head: str = "", title: str = "Test page") -> str:
    return f"<!doctype html><html><head>{head}<title>{title}</title></head><body>{body}</body></html>"


@dataclass
class Site:
    base: str
    files: dict[str, tuple[int, str | None, bytes]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path


def build_pages(folder: Path) -> dict[str, tuple[int, str | None, bytes]]:
    png = make_png(folder / "photo.png", width=120, height=80).read_bytes()
    lazy = make_png(folder / "lazy.png", width=60, height=40, seed=1).read_bytes()
    icon = make_png(folder / "favicon.png", width=16, height=16, seed=2).read_bytes()
    mp4 = make_video(
        folder / "clip.mp4", seconds=0.4, fps=5, width=64, height=48, faststart=True
    ).read_bytes()
    media_page = _html(
        '<h1>Raid</h1><img src="/photo.png" alt="photo"><img src="/photo.png?copy" alt="same bytes again"><img data-src="/lazy.png" alt="lazy-loaded"><video src="/clip.mp4" controls width="64"></video>',
        title="Media page",
    )
    plain = _html("<p>Plain page after a redirect</p>", title="Plain")
    cyr_meta = _html(f"<p>{RUSSIAN}</p>", '<meta charset="windows-1251">', title="Рейд").encode("cp1251")
    cyr_none = _html(f"<p>{RUSSIAN}</p>", title="Рейд").encode("cp1251")
    utf8_none = _html(f"<p>{RUSSIAN}</p>", title="Рейд").encode("utf-8")
    return {
        "/media.html": (200, "text/html; charset=utf-8", media_page.encode("utf-8")),
        "/photo.png": (200, "image/png", png),
        "/lazy.png": (200, "image/png", lazy),
        "/favicon.ico": (200, "image/x-icon", icon),
        "/clip.mp4": (200, "video/mp4", mp4),
        "/plain.html": (200, "text/html; charset=utf-8", plain.encode("utf-8")),
        "/cyr-meta.html": (200, "text/html", cyr_meta),
        "/cyr-none.html": (200, "text/html", cyr_none),
        "/utf8-none.html": (200, None, utf8_none),
    }


class _Handler(http.server.BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, tuple[int, str | None, bytes]]] = {}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/plain.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/slow":
            time.sleep(4)
        status, content_type, body = self.pages.get(path, (404, "text/html", b"<h1>Not Found</h1>"))
        if path == "/slow":
            status, content_type, body = 200, "text/html", b"<p>late</p>"
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test", "hujjat")
        self.end_headers()
        with suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[Site]:
    handler: type[_Handler] = type("Handler", (_Handler,), {"pages": build_pages(folder)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_address[1]}", handler.pages)
    finally:
        server.shutdown()
        server.server_close()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 that no browser trusts."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import ip_address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hujjat test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@contextmanager
def serve_untrusted_tls(folder: Path) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate; yields its base URL."""
    import ssl

    cert, key = _self_signed(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    handler: type[_Handler] = type("Handler", (_Handler,), {"pages": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
