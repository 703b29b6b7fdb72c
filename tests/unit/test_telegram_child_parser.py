"""Parsing an export in a child process (intake.telegram.child): the same records as parsing in
the importer, the parser's errors raised in the importer, and neither side left waiting when the
other dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from hujjat.domain.posts import MediaLocation, MediaRef, PostRecord, SkippedMessage
from hujjat.intake.telegram import TelegramExport, open_export
from hujjat.intake.telegram.archive_files import ExportError
from hujjat.intake.telegram.child import InChildSource, ParserDied, parse_in_child_if_worth
from tests import telegram_exports as tx
from tests.conftest import Cli
from tests.integration.test_telegram_import import run_import
from tests.processes import ends_within


def _both_ways(export: TelegramExport) -> tuple[list[PostRecord | SkippedMessage], list[PostRecord | SkippedMessage]]:
    inline = list(export.records())
    return inline, list(InChildSource(export, batch=2).records())


@pytest.mark.parametrize(
    "make",
    [
        lambda folder: tx.account_export(folder),
        lambda folder: tx.channel_export(folder),
        lambda folder: tx.write_raw(folder, tx.BROKEN_2022),
        lambda folder: tx.write_raw(folder, tx.DUPLICATE_KEYS),
    ],
    ids=["account", "channel", "repaired-2022", "duplicate-keys"],
)
def test_child_gives_the_records_parsing_here_gives(tmp_path: Path, make: object) -> None:
    with open_export(make(tmp_path / "export")) as export:  # type: ignore[operator]
        inline, child = _both_ways(export)
    assert child == inline and len(child) >= 1
    posts = [r for r in child if isinstance(r, PostRecord)]
    assert all("_content_hash" in r.__dict__ for r in posts)  # hashed in the child, carried over
    assert [r.content_hash() for r in posts] == [r.content_hash() for r in inline if isinstance(r, PostRecord)]


def test_parser_error_in_the_child_is_raised_here(tmp_path: Path) -> None:
    folder = tx.channel_export(tmp_path / "export")
    export = open_export(folder)
    result = folder / "result.json"  # valid when opened, truncated before the records are read
    result.write_bytes(result.read_bytes()[:-200])
    with pytest.raises(ExportError, match="not valid JSON"):
        list(InChildSource(export).records())


class _Dying:
    """A source whose parser is killed outright after its first records."""

    label = "dying"
    result_path = Path("result.json")
    message_total = 10
    repairs: ClassVar[list[str]] = []
    skipped_entries: ClassVar[list[str]] = []

    def records(self) -> Iterator[PostRecord | SkippedMessage]:
        yield SkippedMessage("messages[0]", "first")
        yield SkippedMessage("messages[1]", "second")
        os.kill(os.getpid(), signal.SIGKILL)
        yield SkippedMessage("messages[2]", "never")  # pragma: no cover - the process is gone

    def locate(self, ref: MediaRef) -> MediaLocation:  # pragma: no cover - not used
        raise NotImplementedError


def test_a_killed_parser_ends_the_import_with_a_clear_error(tmp_path: Path) -> None:
    seen: list[str] = []
    started = time.monotonic()
    with pytest.raises(ParserDied, match="ended before finishing it \\(exit status -9\\)"):
        for record in InChildSource(_Dying(), batch=2).records():
            assert isinstance(record, SkippedMessage)
            seen.append(record.reason)
    assert seen == ["first", "second"] and time.monotonic() - started < 60


def test_the_parser_stops_when_the_importer_is_killed(tmp_path: Path) -> None:
    """The importer dies while the child waits to hand over its next batch (the source never ends,
    so the child always has one): the child must exit, not wait forever."""
    script = tmp_path / "importer.py"
    script.write_text(
        "import itertools, multiprocessing, time\n"
        "from hujjat.domain.posts import SkippedMessage\n"
        "from hujjat.intake.telegram.child import InChildSource\n"
        "class Endless:\n"
        "    label = 'endless'\n"
        "    def records(self):\n"
        "        for n in itertools.count():\n"
        "            yield SkippedMessage(f'messages[{n}]', 'x' * 1000)\n"
        "if __name__ == '__main__':\n"
        "    records = InChildSource(Endless(), batch=100).records()\n"
        "    next(records)\n"
        "    print(*(p.pid for p in multiprocessing.active_children()), flush=True)\n"
        "    time.sleep(120)\n",
        encoding="utf-8",
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    importer = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    assert importer.stdout is not None
    (parser,) = (int(pid) for pid in importer.stdout.readline().split())
    importer.kill()
    importer.wait()

    assert ends_within(parser)


def test_only_large_exports_get_a_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export = open_export(tx.channel_export(tmp_path / "export"))
    assert parse_in_child_if_worth(export) is export
    monkeypatch.setattr("hujjat.intake.telegram.child.MIN_MESSAGES", export.message_total)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    wrapped = parse_in_child_if_worth(export)
    assert isinstance(wrapped, InChildSource) and wrapped.label == export.label
    assert wrapped.message_total == export.message_total and wrapped.result_path == export.result_path


def test_import_through_the_child_matches_the_import_without_it(
    archive: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tx.channel_export(tmp_path / "export")
    monkeypatch.setattr("hujjat.intake.telegram.child.MIN_MESSAGES", 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    first = run_import(cli, export, "--username", "raidwatch")
    assert first["posts"] == {"new": 10, "unchanged": 0, "edited": 0, "skipped": 0}
    assert first["media"]["stored"] == 3 and first["media"]["refused"] == 2
    monkeypatch.setattr("hujjat.intake.telegram.child.MIN_MESSAGES", 10**9)
    again = run_import(cli, export, "--username", "raidwatch")  # parsed here: nothing differs
    assert again["posts"] == {"new": 0, "unchanged": 10, "edited": 0, "skipped": 0}
    assert again["media"]["stored"] == 0 and again["media"]["already_linked"] == 8
