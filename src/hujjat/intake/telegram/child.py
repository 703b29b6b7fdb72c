"""Parsing an export in a child process, off the importer's interpreter lock.

Turning result.json into post records (ijson, the message rules, the content hashes) is pure
Python work that otherwise holds the lock the importer's recording thread needs for its SQL and
media records: about a fifth of that thread's time at 100,000 messages. `InChildSource(export)`
is a PostSource that delegates everything to `export` except `records()`: a spawned child runs
`export.records()` and sends the records, content hashes computed, in pickled batches over a
one-way pipe (the parent's own child, so the pickle is trusted).

- Streaming stays flat: the child blocks on the pipe while a batch waits unread, so at most
  about two batches exist at a time, whatever the export's size.
- An error of the parser (e.g. ExportError) is raised in the importer as the child raised it.
- A child that dies (killed, out of memory) ends the import with `ParserDied`, naming its exit
  status, as soon as the importer wants the next batch: the pipe's only writer is gone, so the
  read ends (EOF) instead of waiting forever.
- An importer that dies (or stops reading) leaves the child's next write failing (broken pipe),
  and the child exits; a daemon child is also stopped when the importer exits normally.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from itertools import islice
from multiprocessing.connection import Connection
from pathlib import Path

from hujjat.domain.posts import MediaLocation, MediaRef, PostRecord, SkippedMessage
from hujjat.intake.telegram.archive_files import ExportError
from hujjat.ports.posts import PostSource

BATCH = 500
MIN_MESSAGES = 5_000  # below this, starting an interpreter (about a second) costs more than it saves


class ParserDied(ExportError):
    """The child process parsing the export ended without finishing it."""


def _produce(source: PostSource, writer: Connection, batch: int) -> None:
    """The child: every record of `source`, `batch` at a time, then ("end", None) or ("error", exc)."""
    try:
        records = iter(source.records())
        while chunk := list(islice(records, batch)):
            for record in chunk:
                if isinstance(record, PostRecord):
                    record.content_hash()  # cached on the record: the hash travels with it
            writer.send(("records", chunk))
        writer.send(("end", None))
    except BrokenPipeError:  # the importer is gone
        return
    except Exception as error:  # noqa: BLE001 - every parser failure goes to the importer
        try:
            writer.send(("error", error))
        except Exception:  # noqa: BLE001 - an error that does not pickle is sent as its text
            writer.send(("error", ExportError(f"{type(error).__name__}: {error}")))
    finally:
        writer.close()


class InChildSource:
    """`source`, with its records parsed in a spawned child process (see the module docstring)."""

    def __init__(self, source: PostSource, batch: int = BATCH) -> None:
        self.source = source
        self.batch = batch

    @property
    def label(self) -> str:
        return self.source.label

    @property
    def result_path(self) -> Path:
        return self.source.result_path

    @property
    def message_total(self) -> int:
        return self.source.message_total

    @property
    def repairs(self) -> list[str]:
        return self.source.repairs

    @property
    def skipped_entries(self) -> list[str]:
        return self.source.skipped_entries

    def locate(self, ref: MediaRef) -> MediaLocation:
        return self.source.locate(ref)

    def records(self) -> Iterator[PostRecord | SkippedMessage]:
        context = multiprocessing.get_context("spawn")  # no copy of the importer's open connections
        reader, writer = context.Pipe(duplex=False)
        child = context.Process(
            target=_produce, args=(self.source, writer, self.batch), name="hujjat-export-parser", daemon=True
        )
        child.start()
        writer.close()  # the child holds the only writer: its end is our EOF
        try:
            while True:
                try:
                    kind, value = reader.recv()
                except EOFError:
                    child.join()
                    raise ParserDied(
                        f"{self.label}: the process parsing the export ended before finishing it "
                        f"(exit status {child.exitcode}); the posts written so far stay, a re-run resumes"
                    ) from None
                if kind == "records":
                    yield from value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            reader.close()
            if child.is_alive():
                child.terminate()
            child.join()


def parse_in_child_if_worth(source: PostSource) -> PostSource:
    """`InChildSource(source)` for exports large enough to gain from it on a machine with a spare core."""
    if source.message_total >= MIN_MESSAGES and (os.cpu_count() or 1) > 1:
        return InChildSource(source)
    return source
