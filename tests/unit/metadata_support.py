"""Helpers shared by the metadata tests: the media corpus location and an exiftool on/off switch."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hujjat.processing import exiftool

MEDIA = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "media"
GROUND_TRUTH = MEDIA / "EXIFTOOL_12.57_GROUND_TRUTH.json"
HAVE_EXIFTOOL = shutil.which("exiftool") is not None
needs_exiftool = pytest.mark.skipif(not HAVE_EXIFTOOL, reason="exiftool is not installed")
needs_corpus = pytest.mark.skipif(not GROUND_TRUTH.exists(), reason=f"media corpus absent at {MEDIA}")


def media_files() -> list[Path]:
    """Every media file of the corpus (not its README, licences or ground truth)."""
    if not MEDIA.exists():
        return []
    return sorted(
        path
        for path in MEDIA.rglob("*")
        if path.is_file() and path.suffix.lower() not in (".json", ".md", ".txt")
    )


@pytest.fixture(params=["with-exiftool", "without-exiftool"])
def exiftool_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    """Run a test once with ExifTool as supplementary reader (skipped where absent) and once without."""
    enabled = request.param == "with-exiftool"
    if enabled and not HAVE_EXIFTOOL:
        pytest.skip("exiftool is not installed")
    monkeypatch.setenv("HUJJAT_EXIFTOOL", "1" if enabled else "0")
    assert (exiftool.shared() is not None) is enabled
    yield enabled
