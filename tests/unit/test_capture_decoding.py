"""Decoding captured pages (raw bytes in, searchable text out), URL checks, and the WARC writer."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from hujjat.domain.captures import (
    charset_from_content_type,
    charset_from_meta,
    check_url,
    decode_document,
    html_text,
)
from hujjat.domain.errors import UsageError
from hujjat.intake.capture.warc import Exchange, write_warc

LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
russian = st.text(alphabet=LOWER + " ", min_size=1, max_size=200).filter(lambda s: s.strip() != "")


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>Заголовок</title></head><body><p>{body}</p></body></html>"


@given(russian)
def test_windows_1251_declared_only_in_meta(text: str) -> None:
    raw = page(text, '<meta charset="windows-1251">').encode("cp1251")
    decoded = decode_document(raw, "text/html")
    assert (decoded.encoding, decoded.source) == ("cp1251", "meta")
    assert text in decoded.text


@given(russian)
def test_windows_1251_declared_nowhere_is_guessed(text: str) -> None:
    decoded = decode_document(page(text).encode("cp1251"), "text/html")
    assert (decoded.encoding, decoded.source) == ("cp1251", "guess")
    assert text in decoded.text


@given(russian)
def test_koi8_r_declared_nowhere_is_guessed(text: str) -> None:
    decoded = decode_document(page(text).encode("koi8_r"), None)
    assert decoded.encoding == "koi8-r"
    assert text in decoded.text


@given(st.text(min_size=1, max_size=200))
def test_undeclared_utf8_is_utf8(text: str) -> None:
    raw = page(text).encode("utf-8", "surrogatepass")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return  # lone surrogates: not text a server could send as UTF-8
    decoded = decode_document(raw, "text/html")
    assert decoded.encoding == "utf-8"
    assert text in decoded.text


@given(st.binary(max_size=2000), st.one_of(st.none(), st.text(max_size=60)))
def test_decoding_never_raises(raw: bytes, content_type: str | None) -> None:
    decoded = decode_document(raw, content_type)
    assert isinstance(decoded.text, str)
    html_text(decoded.text)


def test_http_charset_wins_over_meta_and_bom_wins_over_both() -> None:
    raw = page("привет", '<meta charset="koi8-r">').encode("cp1251")
    assert decode_document(raw, "text/html; charset=windows-1251").encoding == "cp1251"
    bom = b"\xef\xbb\xbf" + page("привет").encode("utf-8")
    decoded = decode_document(bom, "text/html; charset=windows-1251")
    assert (decoded.encoding, decoded.source) == ("utf-8", "bom")
    assert "привет" in decoded.text


def test_charset_labels() -> None:
    assert charset_from_content_type('text/html; charset="Windows-1251"') == "cp1251"
    assert charset_from_content_type("text/html; charset=no-such-charset") is None
    assert charset_from_content_type("text/html; charset=ISO-8859-1") == "cp1252"  # as browsers do
    assert charset_from_content_type(None) is None
    meta = b'<meta http-equiv="Content-Type" content="text/html; charset=KOI8-R">'
    assert charset_from_meta(meta) == "koi8-r"
    assert charset_from_meta(b'<meta charset="utf-16">') is None


def test_html_text_takes_title_and_skips_scripts() -> None:
    title, text = html_text(
        "<title> Рейд \n в Москве </title><script>var x = 'нет';</script><p>Первый</p><p>Второй  абзац</p>"
    )
    assert title == "Рейд в Москве"
    assert text == "Первый\nВторой абзац"


@pytest.mark.parametrize("url", ["ftp://example.org/", "example.org", "http://", "javascript:alert(1)", ""])
def test_check_url_refuses_non_http(url: str) -> None:
    with pytest.raises(UsageError):
        check_url(url)


def test_check_url_strips() -> None:
    assert check_url("  https://example.org/a?b=1 ") == "https://example.org/a?b=1"


def test_warc_keeps_raw_body_and_renames_transfer_headers(tmp_path: Path) -> None:
    body = "Привет".encode("cp1251")
    exchange = Exchange(
        url="http://example.org/page#frag",
        method="GET",
        request_headers=[("User-Agent", "test")],
        status=200,
        status_text="OK",
        response_headers=[
            ("Content-Type", "text/html"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", "40"),
        ],
        body=body,
        resource_type="Document",
        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    warc = tmp_path / "t.warc.gz"
    assert write_warc(warc, [exchange], {"software": "test"}) == 1
    records, payloads = [], []
    for record in ArchiveIterator(io.BytesIO(warc.read_bytes())):
        records.append(record)
        payloads.append(record.content_stream().read())
    assert [r.rec_type for r in records] == ["warcinfo", "response", "request"]
    response = records[1]
    assert response.rec_headers.get_header("WARC-Target-URI") == "http://example.org/page"
    assert response.rec_headers.get_header("WARC-Date") == "2026-01-02T03:04:05Z"
    assert response.http_headers.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert response.http_headers.get_header("Content-Encoding") is None
    assert response.http_headers.get_header("Content-Length") == str(len(body))
    assert payloads[1] == body
