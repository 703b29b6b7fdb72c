"""ACLED layout: column order against the corpus, row mapping, reading published rows and their quirks."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hujjat.adapters.taxonomy_file import load_taxonomy
from hujjat.domain.acled import (
    COLUMNS,
    CountryFacts,
    incident_row,
    interaction,
    normalise_row,
    reference_incident,
)
from hujjat.domain.incidents import Counts, Incident, IncidentError, Place, TimePrecision

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "acled"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TAXONOMY = load_taxonomy()
RUSSIA = CountryFacts("RUS", 643, "Russia", "Europe")


def _incident(**extra: object) -> Incident:
    values: dict[str, object] = dict(
        id="01J0000000000000000000000A", title="Raid on a hostel", type="raid", subtype="dormitory-raid",
        start=date(2024, 3, 5), created_by="alice", created_at=NOW, updated_by="alice", updated_at=NOW,
        place=Place(text="Москва, Капотня", name="Kapotnya", country_code="RU", country="Russia", admin1="Moscow",
                    latitude=Decimal("55.63806"), longitude=Decimal("37.79306"), geo_precision=1, source="gazetteer"),
        actors=["police", "omon-rosgvardia"], targets=["migrant-workers"], counts=Counts(detained=12),
    )
    values.update(extra)
    return Incident(**values)  # type: ignore[arg-type]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/corpus/acled is not present")
def test_columns_match_acleds_own_list_in_order() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Official column list.*?```\n(.*?)```", readme, re.S)
    assert block is not None
    official = [c.strip() for c in block.group(1).replace("\n", " ").split(",") if c.strip()]
    assert len(official) == 31
    assert list(COLUMNS) == official


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/corpus/acled is not present")
def test_inter_codes_match_the_corpus_numbering() -> None:
    with (CORPUS / "acledR_acled_interaction_codes.csv").open(encoding="utf-8") as fh:
        codes = {int(r["Numeric Code"]) for r in csv.DictReader(fh)}
    assert codes == set(range(1, 9))
    assert {g.inter for g in [*TAXONOMY.actors.values(), *TAXONOMY.targets.values()]} <= codes


def test_row_for_an_incident() -> None:
    row = incident_row(_incident(), TAXONOMY, RUSSIA)
    assert list(row) == list(COLUMNS)
    assert row["event_id_cnty"].startswith("RUS") and row["event_date"] == "2024-03-05" and row["year"] == "2024"
    assert (row["disorder_type"], row["event_type"], row["sub_event_type"]) == (
        "Strategic developments", "Strategic developments", "Arrests")  # a raid with detentions
    assert row["actor1"] == "Police Forces of Russia" and "National Guard" in row["assoc_actor_1"]
    assert (row["inter1"], row["inter2"], row["interaction"]) == ("State forces", "Civilians", "State forces-Civilians")
    assert (row["iso"], row["region"], row["country"], row["admin1"], row["location"]) == (
        "643", "Europe", "Russia", "Moscow", "Kapotnya")
    assert (row["latitude"], row["longitude"], row["geo_precision"], row["time_precision"]) == (
        "55.63806", "37.79306", "1", "1")
    assert row["fatalities"] == "0" and "[detained=12]" in row["notes"] and row["notes"].startswith("On 5 March 2024")
    numeric = incident_row(_incident(), TAXONOMY, RUSSIA, numeric_inter=True)
    assert (numeric["inter1"], numeric["inter2"], numeric["interaction"]) == ("1", "7", "17")


def test_precision_and_violence_coding() -> None:
    row = incident_row(_incident(type="violence", subtype="beating", time_precision=TimePrecision.WEEK,
                                 counts=Counts(killed=1)), TAXONOMY, RUSSIA)
    assert (row["event_type"], row["sub_event_type"], row["civilian_targeting"]) == (
        "Violence against civilians", "Attack", "Civilian targeting")
    assert row["time_precision"] == "2" and row["fatalities"] == "1"
    assert interaction(1, None, True) == "10" and interaction(7, 1, True) == "17"
    assert interaction(1, None, False) == "State forces only"


def _acled_row(**extra: str) -> dict[str | None, str]:
    base = {c: "" for c in COLUMNS}
    base.update(event_id_cnty="RUS8075", event_date="05-03-2022", year="2022", time_precision="1",
                disorder_type="Demostrations", event_type="Protests", sub_event_type="Peaceful protest",
                actor1="Protesters (Russia)", inter1="6", inter2="0", interaction="60", iso="643", region="Europe",
                country="Russia", admin1="Moscow", location="Moscow", latitude="55.7522", longitude="37.6156",
                geo_precision="1", source="Novaya Gazeta", source_scale="Other-National",
                notes='On 5 March 2022, people protested "against the war", in Moscow. [size=no report]',
                fatalities="0", timestamp="1646944444")
    base.update(extra)
    return dict(base)


def test_reading_published_rows_handles_the_quirks() -> None:
    row = normalise_row({f" {k.upper()}" if k == "event_id_cnty" else k: v for k, v in _acled_row().items()}, 2)
    assert row["disorder_type"] == "Demonstrations"
    incident = reference_incident(row, 2, TAXONOMY, "01J0000000000000000000000B", "alice", NOW)
    assert incident.reference and incident.source == "acled:RUS8075" and incident.start == date(2022, 3, 5)
    assert incident.type == "other" and incident.counts.killed == 0 and incident.place.latitude == Decimal("55.7522")
    assert incident_row(incident, TAXONOMY, RUSSIA) == row  # a reference incident exports as published
    arrest = reference_incident(normalise_row(_acled_row(event_type="Strategic developments", sub_event_type="Arrests",
                                                         inter1="State forces", event_date="2022-03-05"), 3),
                                3, TAXONOMY, "01J0000000000000000000000C", "alice", NOW)
    assert arrest.type == "detention"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"event_date": "2099-01-01"}, "in the future"),
        ({"event_date": "1850-01-01"}, "before 1900"),
        ({"event_date": "March"}, "expected YYYY-MM-DD"),
        ({"latitude": "123"}, "latitude"),
        ({"longitude": "east"}, "longitude"),
        ({"inter1": "Aliens"}, "not an ACLED actor type"),
        ({"fatalities": "many"}, "line 7"),
        ({"country": ""}, "missing country"),
    ],
)
def test_bad_rows_name_the_line_and_the_problem(change: dict[str, str], message: str) -> None:
    with pytest.raises(IncidentError, match=message) as info:
        reference_incident(normalise_row(_acled_row(**change), 7), 7, TAXONOMY, "01J0000000000000000000000D",
                           "alice", NOW)
    assert "line 7" in str(info.value)


@settings(max_examples=100, deadline=None)
@given(notes=st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=80))
def test_notes_with_commas_quotes_and_newlines_round_trip_through_csv(notes: str) -> None:
    row = incident_row(_incident(description=notes), TAXONOMY, RUSSIA)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(row)
    back = next(csv.DictReader(io.StringIO(buffer.getvalue(), newline="")))
    assert back == row


_FIELD = st.one_of(st.text(max_size=12), st.sampled_from(["", "0", "1", "3", "-5", "55.75", "1e9", "nan",
                                                         "2022-03-05", "05-03-2022", "State forces", "Civilians"]))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(COLUMNS), _FIELD))
def test_any_row_gives_an_incident_or_a_clear_error(values: dict[str, str]) -> None:
    raw: dict[str | None, str] = dict(_acled_row(**values))
    try:
        incident = reference_incident(normalise_row(raw, 9), 9, TAXONOMY, "01J0000000000000000000000E", "a", NOW)
    except IncidentError as exc:
        assert "line 9" in str(exc)
        return
    assert incident.reference and incident.type in TAXONOMY.types
    assert incident.to_record()["place"]["latitude"] is not None
