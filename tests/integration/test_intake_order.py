"""Large files are copied by threads of their own from the start of an intake (services.intake
LARGE_FILE), while small ones go on beside them; the batch is still recorded, and reported, in
the walk's order, with the metadata each file's bytes give."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from hujjat.adapters.blobs.local import LocalFolderStore


def test_large_files_copy_beside_small_ones_and_record_in_walk_order(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hujjat.bootstrap import open_archive
    from hujjat.processing.metadata import extract_metadata
    from hujjat.services import intake

    monkeypatch.setattr(intake, "LARGE_FILE", 64 * 1024)
    monkeypatch.setattr(intake, "PARALLEL_METADATA_FILES", 1)  # the metadata child, shared by both pools
    monkeypatch.setattr(intake, "BATCH_FILES", 3)
    source = tmp_path / "in"
    source.mkdir()
    sizes = [200_000, 100, 70_000, 5, 300, 90_000, 1_000, 10]
    for index, size in enumerate(sizes):
        (source / f"{index:02d}.txt").write_bytes(b"x" * (size - 1) + bytes([65 + index]))
    copied_by: dict[str, str] = {}
    real_stage = LocalFolderStore.stage

    def stage(self: LocalFolderStore, reader: object, progress: object = None) -> object:
        copied_by[os.path.basename(reader.handle.name)] = threading.current_thread().name  # type: ignore[attr-defined]
        return real_stage(self, reader, progress)  # type: ignore[arg-type]

    monkeypatch.setattr(LocalFolderStore, "stage", stage)
    opened = open_archive(archive)
    try:
        summary = intake.ingest_paths(opened.ports, [source], intake.IntakeRequest())
        names = [Path(o.path).name for o in summary.outcomes]
        assert names == sorted(names) and [o.status for o in summary.outcomes] == ["added"] * len(sizes)
        for name in names:
            large = (source / name).stat().st_size >= 64 * 1024
            assert copied_by[name].startswith("intake-large" if large else "intake_"), name
        with opened.ports.uow(read_only=True) as tx:
            for outcome in summary.outcomes:
                assert outcome.item_id is not None
                [stored] = tx.items.metadata(outcome.item_id)
                path = opened.ports.store.local_path(outcome.sha256 or "")
                assert path is not None
                expected = extract_metadata(path, outcome.media_type or "")
                assert (stored.status, stored.data) == (expected.status, expected.data), outcome.path
    finally:
        opened.close()
