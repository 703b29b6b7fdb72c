"""CLI commands `hujjat search` and `hujjat reindex` (a thin layer over services.search)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
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
from hujjat.ports.search import SearchFilters, SearchHit, SearchResults
from hujjat.services.search import reindex, search

TYPES = ("post", "incident", "evidence", "capture")


def _date(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} wants a date like 2024-05-31, not {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "kind": hit.kind,
        "id": hit.record_id,
        "title": hit.title,
        "snippet": hit.snippet,
        "date": hit.date.isoformat() if hit.date else None,
        "language": hit.language,
        "source": hit.source,
        "place": hit.place,
        "state": hit.state,
        "type": hit.category,
        "score": hit.score,
        "record": hit.record,
    }


def _show(results: SearchResults) -> None:
    about = "about " if results.approximate else ""
    out.print(f"{about}{results.total} result(s), ordered by {results.order}")
    if results.approximate:
        ranked = "; ranked within a sample of the matches" if results.order == "relevance" else ""
        out.print(f"[dim]counts estimated from a sample of the matches{ranked} (narrow the query for exact counts)[/dim]")
    for hit in results.hits:
        when = hit.date.date().isoformat() if hit.date else "—"
        where = " · ".join(escape(x) for x in (hit.source, hit.place, hit.state) if x)
        out.print(f"[bold]{hit.kind}[/bold] {escape(hit.record_id)}  {when}  {hit.language}  {where}")
        text = hit.snippet.replace("<mark>", "\x00").replace("</mark>", "\x01")
        text = escape(html.unescape(text)).replace("\x00", "[reverse]").replace("\x01", "[/reverse]")
        out.print(f"    {text}")
    for name, counts in results.facets.items():
        if counts:
            shown = ", ".join(f"{escape(value)} ({about}{n})" for value, n in counts[:8])
            out.print(f"[dim]{name}:[/dim] {shown}")


def register(app: typer.Typer) -> None:
    @app.command("search")
    def search_command(
        query: Annotated[str, typer.Argument(help='Words, "phrases", AND/OR/NOT, -word, prefix*, chat:/type:/lang:/state:/place:/kind: filters.')],
        kind: Annotated[str | None, typer.Option("--type", help="post, incident, evidence or capture.")] = None,
        date_from: Annotated[str | None, typer.Option("--from", help="On or after this date (YYYY-MM-DD).")] = None,
        date_to: Annotated[str | None, typer.Option("--to", help="On or before this date (YYYY-MM-DD).")] = None,
        place: Annotated[str | None, typer.Option("--place", help="Only records at this place.")] = None,
        state: Annotated[str | None, typer.Option("--state", help="Only records in this verification state.")] = None,
        order: Annotated[str, typer.Option("--order", help="relevance or date.")] = "relevance",
        limit: Annotated[int, typer.Option("--limit", help="How many results (1-1000).")] = 20,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Search posts, incidents, evidence and captures in every language of the archive."""
        if kind is not None and kind not in TYPES:
            raise UsageError(f"--type must be one of {', '.join(TYPES)}")
        if order not in ("relevance", "date"):
            raise UsageError("--order must be relevance or date")
        filters = SearchFilters(date_from=_date(date_from, "--from"))
        end = _date(date_to, "--to")
        if end is not None:
            filters.date_before = end + timedelta(days=1) if len(date_to or "") <= 10 else end
        for name, value in (("kind", kind), ("place", place), ("state", state)):
            if value:
                filters.include[name] = [value]
        with archive_session(archive, actor, sign=False) as opened:
            results = search(opened.ports, query, filters, order, limit)
        if as_json:
            print_json(
                {
                    "query": query,
                    "total": results.total,
                    "approximate": results.approximate,
                    "order": results.order,
                    "results": [_hit_json(h) for h in results.hits],
                    "facets": {k: [{"value": v, "count": n} for v, n in c] for k, c in results.facets.items()},
                }
            )
        else:
            _show(results)

    @app.command("reindex")
    def reindex_command(archive: ArchiveOpt = DEFAULT_ARCHIVE, actor: AsOpt = None, as_json: JsonOpt = False) -> None:
        """Rebuild the search index from scratch from every searchable record."""
        with archive_session(archive, actor, sign=False) as opened:
            progress = Progress(
                TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=err, disable=as_json,
            )
            with progress:
                task = progress.add_task("indexing", total=None)

                def advance(done: int, total: int | None) -> None:
                    progress.update(task, completed=done, total=total)

                count = reindex(opened.ports, advance)
        if as_json:
            print_json({"indexed": count})
        else:
            out.print(f"indexed {count} record(s)")
