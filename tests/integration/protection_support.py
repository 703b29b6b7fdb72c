"""What the protection tests share: running the CLI in-process, and an archive key file supplied
through HUJJAT_KEY_FILE (as scripts and services do)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hujjat.entrypoints.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "archive.key"
    path.write_bytes(os.urandom(32))
    monkeypatch.setenv("HUJJAT_KEY_FILE", str(path))
    monkeypatch.delenv("HUJJAT_PASSPHRASE", raising=False)
    return path
