"""incident_summary: what an incident list shows, read from a stored record without building the
Incident, must say what the Incident read from that record says."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hujjat.domain.incidents import Incident, IncidentSensitivity, Place, incident_summary

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _shown(incident: Incident) -> dict[str, object]:
    return {"id": incident.id, "title": incident.title, "type": incident.type, "start": incident.start.isoformat(),
            "place": {"name": incident.place.name, "text": incident.place.text}, "state": incident.state,
            "sensitivity": incident.sensitivity.value}


def test_the_summary_of_a_record_is_what_its_incident_shows() -> None:
    incident = Incident(id="01J0000000000000000000000A", title="Raid <b>", type="raid", start=date(2024, 3, 1),
                        place=Place(text="Moscow, market", name="Moscow"), created_by="a", created_at=NOW,
                        updated_by="a", updated_at=NOW, state="corroborated",
                        sensitivity=IncidentSensitivity.RESTRICTED)
    assert incident_summary(incident.to_record()) == _shown(incident)


def test_a_record_without_the_optional_fields_gets_from_records_defaults() -> None:
    record = Incident(id="01J0000000000000000000000B", title="t", type="raid", start=date(2024, 1, 1),
                      place=Place(text="x"), created_by="a", created_at=NOW, updated_by="a",
                      updated_at=NOW).to_record()
    for key in ("state", "sensitivity", "place"):  # records written before these fields existed
        del record[key]
    summary = incident_summary(record)
    assert summary == _shown(Incident.from_record(record))
    assert (summary["state"], summary["sensitivity"], summary["place"]) == ("unverified", "internal",
                                                                            {"name": None, "text": ""})
