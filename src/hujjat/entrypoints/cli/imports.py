"""`hujjat import …`: bring in material exported by other tools. `import telegram` lives here;
other importers add their commands to `import_app` (`from …cli.imports import import_app`)."""

from __future__ import annotations

import re
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hujjat.domain.errors import UsageError
from hujjat.entrypoints.cli.common import (
    DEFAULT_ARCHIVE,
    ArchiveOpt,
    AsOpt,
    JsonOpt,
    archive_session,
    err,
    out,
    print_json,
)

import_app = typer.Typer(help="Import exports from other tools (Telegram Desktop, …).", no_args_is_help=True)

_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2})(?::?(\d{2}))?$")


def parse_offset(text: str | None) -> timedelta | None:
    """'+03:00', '-0530', 'UTC+3' -> timedelta; None stays None."""
    if text is None:
        return None
    match = _OFFSET.match(text.strip().upper())
    if not match:
        raise UsageError(f"--utc-offset {text!r}: give it as +HH:MM or -HH:MM, e.g. +03:00")
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes >= 60:
        raise UsageError(f"--utc-offset {text!r} is not a real UTC offset")
    delta = timedelta(hours=hours, minutes=minutes)
    return -delta if sign == "-" else delta


def parse_usernames(values: list[str]) -> dict[str, str]:
    """`name` (the single chat of a chat export) or `CHAT_ID=name`."""
    found: dict[str, str] = {}
    for value in values:
        chat, sep, name = value.rpartition("=")
        name = name.strip().lstrip("@")
        if not re.fullmatch(r"[A-Za-z0-9_]{3,64}", name):
            raise UsageError(f"--username {value!r}: not a Telegram username")
        found[chat.strip() if sep else ""] = name
    return found


class _Bar:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("messages", total=None)

    def planned(self, messages: int) -> None:
        self.progress.update(self.task, total=messages)

    def advance(self, messages: int) -> None:
        self.progress.advance(self.task, messages)


def _print_summary(result: dict[str, Any]) -> None:
    posts, media = result["posts"], result["media"]
    out.print(f"imported {escape(result['export'])} ({len(result['chats'])} chat(s))")
    out.print(
        f"posts: {posts['new']} new, {posts['unchanged']} unchanged, {posts['edited']} edited"
        + (f", {posts['skipped']} skipped" if posts["skipped"] else "")
    )
    out.print(
        f"media: {media['stored']} stored, {media['already_linked']} already linked, "
        f"{media['not_exported']} not exported, {media['missing']} missing, "
        f"{media['refused']} refused, {media['failed']} failed"
    )
    for note in result["repairs"]:
        out.print(f"repaired: {escape(note)}")
    for skipped in result["skipped"]:
        err.print(f"skipped {escape(skipped['json_path'])}: {escape(skipped['reason'])}")
    for problem in result["media_problems"][:50]:
        err.print(f"media {problem['status']}: {escape(str(problem['path']))}: {escape(str(problem['reason']))}")


@import_app.command("telegram")
def telegram(
    path: Annotated[Path, typer.Argument(help="Export folder, its result.json, or a .zip of it.")],
    username: Annotated[
        list[str] | None,
        typer.Option(help="Public @username of the chat, for t.me links: NAME, or CHAT_ID=NAME (repeatable)."),
    ] = None,
    utc_offset: Annotated[
        str | None,
        typer.Option(help="UTC offset of the exporting computer, e.g. +03:00, for old exports without date_unixtime."),
    ] = None,
    search_index: Annotated[
        bool,
        typer.Option("--search-index/--no-search-index", help="Index posts for search now (else: hujjat reindex)."),
    ] = True,
    archive: ArchiveOpt = DEFAULT_ARCHIVE,
    actor: AsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import a Telegram Desktop JSON export: every message becomes a post, media become evidence."""
    from hujjat.entrypoints.index_worker import ProcessIndexer, worth_a_process
    from hujjat.intake.telegram import open_export  # ijson and the importer: only for this command
    from hujjat.intake.telegram.child import parse_in_child_if_worth
    from hujjat.services.telegram_import import TelegramImportSummary, import_export

    offset = parse_offset(utc_offset)
    names = parse_usernames(username or [])
    with ExitStack() as stack:
        arch = stack.enter_context(archive_session(archive, actor))
        export = stack.enter_context(open_export(path, usernames=names, utc_offset=offset))
        indexer = None
        if search_index and worth_a_process(arch, export.message_total):
            indexer = stack.enter_context(ProcessIndexer(arch))  # a spare core analyses the posts' text
        observer = None
        if not json_out:
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            observer = _Bar(stack.enter_context(Progress(*columns, console=err, transient=True)))
        summary: TelegramImportSummary = import_export(
            arch.ports, parse_in_child_if_worth(export), observer, search_index=search_index, indexer=indexer
        )
    result = summary.as_dict()
    if json_out:
        print_json(result)
    else:
        _print_summary(result)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
