"""The web interface on an encrypted archive: thumbnails are made on the fly and never cached in
plaintext under the archive folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hujjat.adapters.credentials import fast_credentials
from hujjat.adapters.crypto.keyring import Secret
from hujjat.bootstrap import init_archive
from hujjat.processing import synthetic
from hujjat.services.accounts import create_user
from hujjat.services.intake import IntakeRequest, ingest_paths
from tests.web.support import PASSWORD, WebArchive, client_for, login


def test_thumbnails_are_not_cached_in_plaintext(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "k"
    key.write_bytes(os.urandom(32))
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(key))
    root = tmp_path / "archive"
    archive = init_archive(root, actor="setup", encrypt=Secret.from_key_file(key))
    try:
        create_user(archive.ports, fast_credentials(), "boss", "admin", PASSWORD, True)
        photo = synthetic.make_png(tmp_path / "shot.png")
        summary = ingest_paths(archive.ports, [photo], IntakeRequest(source="tests"))
        item_id = summary.outcomes[0].item_id
    finally:
        archive.close()
    with client_for(WebArchive(root)) as client:
        login(client, "boss")
        response = client.get(f"/evidence/{item_id}/thumb")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/jpeg"
        assert response.content[:2] == b"\xff\xd8"
        # The bytes, whole and in ranges, come decrypted (the reader seeks chunk by chunk).
        original = photo.read_bytes()
        whole = client.get(f"/evidence/{item_id}/download")
        assert whole.status_code == 200 and whole.content == original
        part = client.get(f"/evidence/{item_id}/download", headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == original[100:200]
    assert not (root / "thumbs").exists()
