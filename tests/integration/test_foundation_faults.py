"""Faults the foundation must survive: unreadable and special files, symlink loops, files that
change while read, corrupt media, a SIGKILL mid-add, and two writers at once."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli

HUJJAT = [sys.executable, "-m", "hujjat.entrypoints.cli.main"]


def run_cli(*args: str, archive: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HUJJAT, *args, "--archive", str(archive)], capture_output=True, text=True, timeout=300
    )


def make_tree(root: Path, files: int, size: int = 4096, offset: int = 0) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        path = root / f"f{offset + i:05d}.bin"
        path.write_bytes((f"file {offset + i}\n".encode()) * (size // 8) + os.urandom(16))
        paths.append(path)
    return paths


def listing(archive: Path) -> list[dict[str, object]]:
    return json.loads(run_cli("list", "--json", archive=archive).stdout)["items"]  # type: ignore[no-any-return]


def test_special_files_loops_and_broken_links_are_skipped_and_the_rest_goes_on(
    sqlite_archive: Path, cli: Cli, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    make_tree(folder, 3)
    os.mkfifo(folder / "a.fifo")
    (folder / "loop").symlink_to(folder)  # a folder that contains itself
    (folder / "x").symlink_to(folder / "y")
    (folder / "y").symlink_to(folder / "x")  # file symlink loop
    (folder / "broken").symlink_to(folder / "nothing-here")
    with contextlib.suppress(OSError):  # creating a device node may be refused in a container
        os.mknod(folder / "char", 0o600 | 0o020000, os.makedev(1, 3))
    result = cli("add", str(folder), "--json")
    assert result.code == 1  # exit status says something was skipped
    summary = json.loads(result.out)
    assert summary["added"] == 3
    reasons = {Path(o["path"]).name: o["message"] for o in summary["outcomes"] if o["status"] == "skipped"}
    assert "FIFO" in reasons["a.fifo"]
    assert "loop" in reasons["x"] or "loop" in reasons["y"]
    assert "symlinked folder" in reasons["loop"]
    assert "broken" in reasons
    assert cli("verify").code == 0


@pytest.fixture
def world_tmp() -> Iterator[Path]:
    """A temporary folder an unprivileged user can reach (pytest's own are 0700 under root)."""
    path = Path(tempfile.mkdtemp(prefix="hujjat-perm-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_permission_denied_is_reported(world_tmp: Path) -> None:
    """As root (who reads everything) the add runs as an unprivileged user via setpriv."""
    tmp_path = world_tmp
    archive = tmp_path / "archive"
    folder = tmp_path / "in"
    make_tree(folder, 2)
    subprocess.run([*HUJJAT, "init", str(archive)], check=True, capture_output=True)
    secret = folder / "secret.txt"
    secret.write_text("no access")
    command = [*HUJJAT, "add", str(folder), "--archive", str(archive), "--json"]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot drop privileges")
        tmp_path.chmod(0o755)
        for path in [tmp_path, *tmp_path.rglob("*")]:
            os.chown(path, 65534, 65534, follow_symlinks=False)
        os.chown(secret, 0, 0)
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        reachable = subprocess.run([*drop, sys.executable, "-c", "import hujjat"], capture_output=True)
        if reachable.returncode != 0:  # e.g. a checkout inside a 0700 folder (mktemp -d)
            pytest.skip("the unprivileged user cannot reach this checkout's Python environment")
        command = [*drop, *command]
    secret.chmod(0o000)
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    failed = [o for o in summary["outcomes"] if o["status"] in ("failed", "skipped")]
    assert [Path(o["path"]).name for o in failed] == ["secret.txt"]
    assert "ermission denied" in failed[0]["message"]
    assert summary["added"] == 2


def test_file_that_shrinks_while_read_is_not_recorded(sqlite_archive: Path, tmp_path: Path) -> None:
    """The progress hook truncates the file after the first chunk: a real torn read."""
    from hujjat.bootstrap import open_archive
    from hujjat.services.intake import IntakeOutcome, IntakeRequest, ingest_paths

    victim = tmp_path / "in" / "growing.mp4"
    victim.parent.mkdir()
    victim.write_bytes(os.urandom(3 * 1024 * 1024))

    class Truncator:
        def planned(self, files: int, total_bytes: int) -> None: ...

        def advance(self, nbytes: int) -> None:
            with victim.open("r+b") as handle:
                handle.truncate(1024)

        def finished(self, outcome: IntakeOutcome) -> None: ...

    arch = open_archive(sqlite_archive)
    summary = ingest_paths(arch.ports, [victim.parent], IntakeRequest(), Truncator())
    arch.close()
    assert [o.status for o in summary.outcomes] == ["failed"]
    assert "changed while being read" in (summary.outcomes[0].message or "")
    assert listing(sqlite_archive) == []
    assert not list((sqlite_archive / "store" / "tmp").glob("*.part"))


def test_batch_that_cannot_be_made_durable_is_reported_and_not_recorded(
    sqlite_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filesystem sync before a batch's records fails (an I/O error, a full disk): every file
    of that batch is reported failed, nothing of it is named or recorded, and a re-run adds it."""
    from hujjat.adapters.blobs import local
    from hujjat.bootstrap import open_archive
    from hujjat.services.intake import IntakeRequest, ingest_paths

    files = make_tree(tmp_path / "in", 5)

    def broken_sync(folder: Path) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(local, "sync_filesystem", broken_sync)
        arch = open_archive(sqlite_archive)
        summary = ingest_paths(arch.ports, [tmp_path / "in"], IntakeRequest())
        arch.close()
    assert sorted(o.status for o in summary.outcomes) == ["failed"] * len(files)
    assert all("Input/output error" in (o.message or "") for o in summary.outcomes)
    assert listing(sqlite_archive) == []
    assert not list((sqlite_archive / "store" / "tmp").glob("*.part"))
    assert not [p for p in (sqlite_archive / "store" / "objects").rglob("*") if p.is_file()]
    rerun = run_cli("add", str(tmp_path / "in"), "--json", archive=sqlite_archive)
    assert rerun.returncode == 0, rerun.stderr
    assert len(listing(sqlite_archive)) == len(files)


def test_corrupt_media_is_kept_with_failed_metadata(archive: Path, cli: Cli, tmp_path: Path) -> None:
    from hujjat.processing import synthetic

    good = tmp_path / "good.jpg"
    synthetic.make_photo(good, width=64, height=48, seed=1, gps=(55.75, 37.61), taken_at=None)
    data = good.read_bytes()
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (folder / "garbage.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(5000))
    result = cli("add", str(folder), "--json")
    assert result.code == 0, result.err
    for item in json.loads(cli("list", "--json").out)["items"]:
        meta = json.loads(cli("show", item["id"], "--json").out)["metadata"]
        assert meta["status"] in ("failed", "partial"), meta
        assert meta.get("error")
    assert cli("verify").code == 0


@pytest.mark.slow
def test_sigkill_mid_add_then_rerun_leaves_every_file_in_exactly_once(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    subprocess.run([*HUJJAT, "init", str(archive)], check=True, capture_output=True)
    folder = tmp_path / "in"
    files = make_tree(folder, 400, size=64 * 1024)
    proc = subprocess.Popen(
        [*HUJJAT, "add", str(folder), "--archive", str(archive), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    objects = archive / "store" / "objects"
    while time.monotonic() < deadline:
        if objects.exists() and sum(1 for _ in objects.rglob("*") if _.is_file()) >= 40:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    stored_before = len(listing(archive))
    assert stored_before < len(files), "the add finished before it could be killed"

    rerun = run_cli("add", str(folder), "--json", archive=archive)
    assert rerun.returncode == 0, rerun.stderr
    items = listing(archive)
    assert len(items) == len(files)
    assert len({i["sha256"] for i in items}) == len(files)
    for item in items[:: max(1, len(items) // 20)]:
        detail = json.loads(run_cli("show", str(item["id"]), "--json", archive=archive).stdout)
        assert len(detail["acquisitions"]) == 1
    verify = run_cli("verify", archive=archive)
    assert verify.returncode == 0, verify.stderr + verify.stdout
    assert not list((archive / "store" / "tmp").glob("*.part"))


@pytest.mark.slow
def test_two_adds_at_once_lose_and_double_nothing(archive: Path, db_url: str | None, tmp_path: Path) -> None:
    shared_files = make_tree(tmp_path / "shared", 60, size=16 * 1024)
    a = make_tree(tmp_path / "a", 60, size=16 * 1024, offset=1000)
    b = make_tree(tmp_path / "b", 60, size=16 * 1024, offset=2000)
    shutil.copytree(tmp_path / "shared", tmp_path / "a" / "shared")
    shutil.copytree(tmp_path / "shared", tmp_path / "b" / "shared")
    procs = [
        subprocess.Popen(
            [*HUJJAT, "add", str(tmp_path / name), "--archive", str(archive), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    items = listing(archive)
    assert len(items) == len(shared_files) + len(a) + len(b)
    shared_item = next(
        i
        for i in items
        if i["sha256"] == __import__("hashlib").sha256(shared_files[0].read_bytes()).hexdigest()
    )
    detail = json.loads(run_cli("show", str(shared_item["id"]), "--json", archive=archive).stdout)
    assert sorted(Path(acq["path"]).parts[-3] for acq in detail["acquisitions"]) == ["a", "b"]
    verify = run_cli("verify", archive=archive)
    assert verify.returncode == 0, verify.stderr + verify.stdout
