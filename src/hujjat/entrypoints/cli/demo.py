"""`hujjat demo`: a demo archive from generated material (photos with EXIF/GPS, real videos, notes)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hujjat.bootstrap import init_archive
from hujjat.entrypoints.cli.common import archive_session, out
from hujjat.entrypoints.cli.evidence import RichIntakeObserver, _progress
from hujjat.entrypoints.cli.users import announce_admin, first_admin
from hujjat.entrypoints.cli.web import serve_archive
from hujjat.services.context import ArchivePorts
from hujjat.services.intake import IntakeRequest, IntakeSummary, ingest_paths

# Places the first users document (approximate city centres; the demo invents no real event).
DEMO_PLACES = [
    ("Moscow", 55.7558, 37.6173),
    ("Yekaterinburg", 56.8389, 60.6057),
    ("Saint Petersburg", 59.9343, 30.3351),
    ("Dushanbe", 38.5598, 68.7870),
    ("Tashkent", 41.2995, 69.2401),
    ("Bishkek", 42.8746, 74.5698),
]

NOTES = [
    "Свидетель: сотрудники проверяли документы у рабочих на стройке, троих увезли в отдел.",
    "Шоҳид: дар бозор милиса ҳуҷҷатҳои муҳоҷиронро тафтиш кард.",
    "Guvoh: politsiya yotoqxonada hujjatlarni tekshirdi, ikki kishi olib ketildi.",
    "Witness note: summons handed to newly naturalised citizens outside the migration centre.",
]


def generate_material(folder: Path, photos: int = 8, videos: int = 2) -> None:
    from hujjat.processing import synthetic

    start = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    for i in range(photos):
        name, lat, lon = DEMO_PLACES[i % len(DEMO_PLACES)]
        synthetic.make_photo(
            folder / f"photo_{i:02d}_{name.replace(' ', '_')}.jpg",
            width=800,
            height=600,
            seed=i,
            gps=(lat + i * 0.001, lon - i * 0.001),
            taken_at=start + timedelta(days=i, minutes=17 * i),
        )
    for i in range(videos):
        name, lat, lon = DEMO_PLACES[(i + 1) % len(DEMO_PLACES)]
        synthetic.make_video(
            folder / f"video_{i:02d}_{name.replace(' ', '_')}.mp4",
            seconds=3,
            fps=15,
            width=320,
            height=240,
            seed=i,
            location=(lat, lon),
            created_at=start + timedelta(days=3 * i, hours=2),
        )
    notes = folder / "notes"
    notes.mkdir()
    for i, text in enumerate(NOTES):
        synthetic.make_text_note(notes / f"note_{i:02d}.txt", text)
    # A copy under another name: stored once, acquired twice.
    shutil.copy(folder / "photo_00_Moscow.jpg", notes / "forwarded_copy.jpg")


# (type, title, place index, description, actors, targets, counts)
DEMO_INCIDENTS = [
    ("raid", "Document check at a construction site", 1, "Three workers taken to the police station.",
     ["police"], ["migrant-workers"], {"detained": "3"}),
    ("detention", "Migrants detained after a market inspection", 4, "Witnesses describe a check of papers.",
     ["police", "migration-service"], ["migrant-workers"], {"detained": "5", "injured": "0"}),
    ("conscription", "Summonses handed out at the migration centre", 2, "Newly naturalised citizens summoned.",
     ["enlistment-office"], ["naturalised-citizens"], {"summoned": "12"}),
    ("deportation", "Deportation order after a dormitory raid", 0, "Two residents held pending expulsion.",
     ["omon-rosgvardia", "migration-service"], ["residents"], {"deported": "2"}),
]


def create_demo_incidents(ports: ArchivePorts, root: Path, summary: IntakeSummary) -> int:
    """A few incidents at the demo places, each linked to the photo taken there, so the map, the
    timeline and the verification queue have something to show."""
    from hujjat.adapters.taxonomy_file import load_taxonomy
    from hujjat.entrypoints.cli.incidents import optional_places
    from hujjat.services.incidents import IncidentFields, create_incident, link_incident

    taxonomy = load_taxonomy(root)
    places = optional_places()  # the offline gazetteer gives country and region, as for real incidents
    photos = {Path(o.path).name: o.item_id for o in summary.outcomes if o.item_id}
    for i, (type_id, title, place_index, text, actors, targets, counts) in enumerate(DEMO_INCIDENTS):
        name, lat, lon = DEMO_PLACES[place_index]
        manual = places is None  # without the gazetteer, the demo's own coordinates
        record = create_incident(ports, taxonomy, places, IncidentFields(
            title=title, type=type_id, date=f"2026-03-{i * 5 + 2:02d}", place=name,
            latitude=str(lat) if manual else None, longitude=str(lon) if manual else None,
            description=text, actors=actors, targets=targets, counts=counts, tags=["demo"]))
        photo = next((item for file, item in sorted(photos.items()) if name.replace(" ", "_") in file), None)
        if photo:
            link_incident(ports, str(record["id"]), photo, "depicts", "photo taken at the place")
    return len(DEMO_INCIDENTS)


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        directory: Annotated[Path, typer.Argument(help="Folder for the demo archive.")] = Path(
            "demo-archive"
        ),
        fresh: Annotated[
            bool, typer.Option("--fresh/--keep", help="Replace an existing demo archive.")
        ] = True,
        serve: Annotated[
            bool, typer.Option("--serve/--no-serve", help="Serve the web UI afterwards.")
        ] = False,
    ) -> None:
        """Build a demo archive from generated material and show what it holds."""
        if directory.exists() and fresh:
            if not (directory / "hujjat.toml").exists():
                raise typer.BadParameter(f"{directory} exists and is not a Hujjat archive; not touching it")
            shutil.rmtree(directory)
        created = init_archive(directory, actor="demo")
        admin = first_admin(created)
        created.close()
        out.print(f"created demo archive in {escape(str(directory))}")
        with tempfile.TemporaryDirectory(prefix="hujjat-demo-") as tmp:
            material = Path(tmp) / "field-material"
            material.mkdir()
            generate_material(material)
            with archive_session(directory, "demo") as arch, _progress() as progress:
                summary = ingest_paths(
                    arch.ports,
                    [material],
                    IntakeRequest(source="demo: generated field material", note="generated for the demo"),
                    RichIntakeObserver(progress),
                )
        out.print(
            f"ingested: added {summary.count('added')}, already present {summary.count('present')}, "
            f"failed {summary.count('failed') + summary.count('skipped')}"
        )
        with archive_session(directory, "demo") as arch:
            out.print(f"incidents: {create_demo_incidents(arch.ports, arch.config.root, summary)} created")
        from hujjat.services.audit import verify_archive

        with archive_session(directory, "demo", sign=False) as arch:
            report = verify_archive(arch.ports)
        out.print(
            f"verify: {'OK' if report.ok else 'FAILED'}: {report.items} items, {report.entries} custody entries"
        )
        out.print(f"try: hujjat list --archive {directory}   /   hujjat show <ID> --archive {directory}")
        announce_admin(admin)
        if serve:
            serve_archive(directory)
