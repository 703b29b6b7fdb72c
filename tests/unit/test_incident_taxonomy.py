"""Loading the taxonomy: shipped defaults, an archive's extension merged over them, malformed files."""

from __future__ import annotations

import contextlib
import csv
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hujjat.adapters.taxonomy_file import load_taxonomy
from hujjat.domain.vocabulary import TaxonomyError, merge_documents, parse_taxonomy

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "acled"
TYPES = ("raid", "detention", "conscription", "deportation", "violence", "harassment", "threat", "property")


def test_shipped_taxonomy_has_the_issue_types_and_groups() -> None:
    taxonomy = load_taxonomy()
    assert set(TYPES) <= set(taxonomy.types)
    assert {"police", "omon-rosgvardia", "migration-service", "enlistment-office", "unknown"} <= set(taxonomy.actors)
    assert {"migrant-workers", "worshippers", "naturalised-citizens", "women"} <= set(taxonomy.targets)
    assert taxonomy.types["detention"].coding(None, None).sub_event_type == "Arrests"
    raid = taxonomy.types["raid"]
    assert raid.coding(None, 0).sub_event_type == "Other"
    assert raid.coding(None, 3).sub_event_type == "Arrests"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/corpus/acled is not present")
def test_every_acled_coding_is_a_real_acled_category() -> None:
    with (CORPUS / "acledR_acled_event_categories.csv").open(encoding="utf-8") as fh:
        known = {(r["event_type"], r["sub_event_type"]) for r in csv.DictReader(fh)}
    for kind in load_taxonomy().types.values():
        codings = [kind.acled, kind.acled_if_detained, *(s.acled for s in kind.subtypes.values())]
        for coding in filter(None, codings):
            assert (coding.event_type, coding.sub_event_type) in known, (kind.id, coding)


def test_archive_file_extends_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "taxonomy.yaml").write_text(
        "types:\n"
        "  raid:\n    subtypes:\n      market-raid: {label: Raid at a market}\n"
        "  eviction:\n    label: Eviction\n"
        "    acled: {disorder_type: Strategic developments, event_type: Strategic developments, sub_event_type: Other}\n"
        "  threat: {disabled: true}\n"
        "actors:\n  landlord: {label: Landlord, inter: 8}\n",
        encoding="utf-8",
    )
    taxonomy = load_taxonomy(tmp_path)
    assert "market-raid" in taxonomy.types["raid"].subtypes
    assert "dormitory-raid" in taxonomy.types["raid"].subtypes  # merged, not replaced
    assert taxonomy.types["eviction"].label == "Eviction"
    assert taxonomy.types["threat"].disabled
    assert "landlord" in taxonomy.actors
    with pytest.raises(TaxonomyError, match="disabled"):
        taxonomy.check("threat", None, [], [])
    assert str(tmp_path / "taxonomy.yaml") in taxonomy.sources


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("types: [raid, detention]\n", "types: expected a mapping"),
        ("types:\n  raid:\n    label: [unclosed\n", "not valid YAML"),
        ("types:\n  Bad Id:\n    label: x\n", "not a valid id"),
        ("types:\n  x:\n    label: X\n    acled: {disorder_type: Chaos, event_type: a, sub_event_type: b}\n",
         "not an ACLED disorder type"),
        ("actors:\n  police: {label: Police, inter: 12}\n", "ACLED actor code"),
        ("- just\n- a list\n", "mapping at the top level"),
        ("version: 7\n", "unsupported version"),
        ("types:\n  raid:\n    acled: {event_type: x, sub_event_type: y, disorder_type: Demonstrations, extra: 1}\n",
         "unknown key"),
    ],
)
def test_malformed_archive_taxonomy_is_refused_with_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "taxonomy.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=message) as info:
        load_taxonomy(tmp_path)
    assert "taxonomy.yaml" in str(info.value)


def test_unknown_values_are_named() -> None:
    taxonomy = load_taxonomy()
    with pytest.raises(TaxonomyError, match="unknown incident type 'riot'"):
        taxonomy.check("riot", None, [], [])
    with pytest.raises(TaxonomyError, match="unknown sub-type 'arrest' for type 'raid'"):
        taxonomy.check("raid", "arrest", [], [])
    with pytest.raises(TaxonomyError, match="unknown actor group 'kgb'"):
        taxonomy.check("raid", None, ["kgb"], [])
    with pytest.raises(TaxonomyError, match="defines no incident types"):
        parse_taxonomy({"types": {}})


_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.text(max_size=8))
_DOC = st.recursive(_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["types", "actors", "targets", "acled_regions", "version"]), _DOC))
def test_any_extension_is_merged_or_refused_with_a_taxonomy_error(extension: dict[str, object]) -> None:
    base = {"types": {"raid": {"label": "Raid"}}}
    with contextlib.suppress(TaxonomyError):
        parse_taxonomy(merge_documents(base, extension))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("targets:\n  workers: {label: Workers, inter: 7, religion: any}\n", "records no religion"),
        ("types:\n  raid:\n    ethnicity: x\n", "records no ethnicity"),
        ("types:\n  raid:\n    lable: Raid\n", "unknown key(s) lable"),
        ("colours: {a: b}\n", "unknown key(s) colours"),
    ],
)
def test_unknown_keys_and_protected_categories_are_refused(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "taxonomy.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=re.escape(message)):
        load_taxonomy(tmp_path)
