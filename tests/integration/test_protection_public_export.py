"""`export public`: only public incidents, redacted media only, coarse coordinates, pseudonyms,
manifest of hashes; and the whole pipeline running with outbound network blocked."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hujjat.processing import synthetic


def _json(result: Any) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.out)


def _incident(cli: Any, title: str, sensitivity: str) -> str:
    record = _json(cli("incident", "new", "--title", title, "--type", "raid", "--subtype", "dormitory-raid",
                       "--date", "2024-03-05", "--place", "Dushanbe, Sino district", "--lat", "38.55981",
                       "--lon", "68.78704", "--geo-precision", "1", "--sensitivity", sensitivity,
                       "--as", "alice.monitor", "--json"))
    return str(record["id"])


def _scenario(cli: Any, tmp_path: Path) -> dict[str, str]:
    photo = synthetic.make_photo(tmp_path / "raid.jpg", gps=(38.5598, 68.7870), taken_at=datetime(2024, 3, 5, tzinfo=UTC))
    item = _json(cli("add", str(photo), "--json"))["outcomes"][0]["item_id"]
    public = _incident(cli, "Raid on a hostel", "public")
    internal = _incident(cli, "Detention of a named witness", "restricted")
    assert cli("incident", "link", public, item, "--as", "alice.monitor").code == 0
    assert cli("incident", "link", internal, item).code == 0
    return {"item": item, "public": public, "internal": internal}


def test_public_export(sqlite_archive: Path, cli: Any, tmp_path: Path) -> None:
    ids = _scenario(cli, tmp_path)
    refused = cli("export", "public", str(tmp_path / "out0"))
    assert refused.code == 2 and "no redacted derivative" in refused.err
    derivative = _json(cli("redact", ids["item"], "--faces", "--strip-metadata", "--json"))["derivative"]
    out = tmp_path / "out"
    summary = _json(cli("export", "public", str(out), "--json"))
    assert summary["incidents"] == 1 and summary["media"] == 1
    rows = list(csv.DictReader((out / "incidents.csv").open(encoding="utf-8")))
    assert len(rows) == 1 and rows[0]["latitude"] == "38.56" and rows[0]["longitude"] == "68.79"
    assert "Detention" not in (out / "incidents.csv").read_text()
    geo = json.loads((out / "incidents.geojson").read_text())
    props = geo["features"][0]["properties"]
    assert props["created_by"].startswith("person-") and "alice" not in json.dumps(geo)
    assert props["links"][0]["sha256"] == derivative["sha256"]
    media = list((out / "media").iterdir())
    assert [m.name.split(".")[0] for m in media] == [derivative["sha256"]]
    if shutil.which("exiftool"):
        tags = json.loads(subprocess.run(["exiftool", "-j", "-G1", "-a", str(media[0])], capture_output=True,
                                         text=True, check=True).stdout)[0]
        assert not [k for k in tags if k.split(":")[0] in ("GPS", "IFD0", "ExifIFD", "XMP-exif", "IFD1")]
    manifest = json.loads((out / "manifest.json").read_text())
    for entry in manifest["files"]:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["size"]
    # The original may be published unredacted only when named, and that is logged.
    summary = _json(cli("export", "public", str(tmp_path / "out2"), "--allow-unredacted", ids["item"],
                        "--state", "unverified", "--json"))
    assert summary["incidents"] == 1
    log = cli("show", ids["item"], "--json").out
    assert "item.redacted" in log


def test_pipeline_runs_offline(sqlite_archive: Path, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def _local(address: Any) -> bool:
        if isinstance(address, (str, bytes)):
            return True  # AF_UNIX
        host = str(address[0])
        return host in ("localhost", "::1") or host.startswith("127.")

    def guarded(self: socket.socket, address: Any) -> Any:
        if not _local(address):
            attempts.append(address)
            raise OSError("network blocked by the offline test")
        return real_connect(self, address)

    def guarded_ex(self: socket.socket, address: Any) -> Any:
        if not _local(address):
            attempts.append(address)
            raise OSError("network blocked by the offline test")
        return real_connect_ex(self, address)

    def no_dns(*args: Any, **kwargs: Any) -> Any:
        host = args[0] if args else kwargs.get("host")
        if host not in (None, "localhost", "127.0.0.1", "::1"):
            attempts.append(("dns", host))
            raise socket.gaierror("name resolution blocked by the offline test")
        return real_getaddrinfo(*args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    ids = _scenario(cli, tmp_path)
    assert cli("verify").code == 0
    assert cli("incident", "list", "--json").code == 0
    assert cli("search", "raid", "--json").code in (0, 1)
    assert cli("redact", ids["item"], "--faces").code == 0
    assert cli("export", "public", str(tmp_path / "pub")).code == 0
    assert cli("export", "acled", str(tmp_path / "a.csv")).code == 0
    assert cli("verify", "--quick").code == 0
    assert attempts == []
