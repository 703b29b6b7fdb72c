"""BagIt tag-file parsers: the bagit-java parser inputs (corpus) and property tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hujjat.export.bagit_parse import (
    decode_path,
    parse_bag_info,
    parse_declaration,
    parse_fetch,
    parse_manifest,
    unsafe_path,
)

JAVA = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "bagit" / "bagit-java"
needs_corpus = pytest.mark.skipif(not JAVA.is_dir(), reason="corpus/bagit/bagit-java is not present")


@needs_corpus
def test_bagit_txt_with_bom_is_refused() -> None:
    result = parse_declaration((JAVA / "bagitFiles" / "bagit-with-bom.txt").read_bytes())
    assert any("byte-order mark" in p for p in result.problems)
    ok = parse_declaration((JAVA / "bagitFiles" / "bagit-0.97.txt").read_bytes())
    assert not ok.problems and ok.version == "0.97" and ok.encoding == "UTF-8"


@needs_corpus
@pytest.mark.parametrize(
    "name",
    ["fileUrl.txt", "tildeReference.txt", "upAdirectoryReference.txt", "windowsSpecialDirectoryName.txt"],
)
def test_malicious_paths_are_refused(name: str) -> None:
    manifest = parse_manifest("manifest-md5.txt", (JAVA / "maliciousManifestFile" / name).read_text(), "md5")
    assert manifest.problems and not manifest.lines
    fetch = parse_fetch((JAVA / "maliciousFetchFile" / name).read_text())
    assert fetch.problems and not fetch.lines


@needs_corpus
def test_fetch_files_parse() -> None:
    for name in ("fetchWithBlankLines.txt", "fetchWithSizeSpecified.txt", "fetchWithNoSizeSpecified.txt"):
        fetch = parse_fetch((JAVA / "fetchFiles" / name).read_text())
        assert not fetch.problems, fetch.problems
        assert len(fetch.lines) == 5
        assert "data/test 1.txt" in {line.path for line in fetch.lines}


@needs_corpus
def test_bag_info_files() -> None:
    info = parse_bag_info((JAVA / "baginfoFiles" / "bag-info.txt").read_text())
    assert not info.problems
    assert info.values("external-description") == [
        "Uncompressed greyscale TIFF images from the Yoshimuri papers collection."
    ]
    assert info.values("Bag-Count") == ["1 of 15", "1 of 15"]
    assert parse_bag_info((JAVA / "badBagMetadata" / "badIndent.txt").read_text()).problems
    assert parse_bag_info((JAVA / "badBagMetadata" / "badKeyValueSeparator.txt").read_text()).problems


def test_declaration_rules() -> None:
    assert parse_declaration(b"BagIt-Version : 1.0\nTag-File-Character-Encoding : UTF-8\n").problems
    assert parse_declaration(b"BagIt-Version: .97\nTag-File-Character-Encoding: UTF-8\n").problems
    assert parse_declaration(b"BagIt-Version: 1.0\nTag-File-Character-Encoding: NOPE-8\n").problems
    assert parse_declaration(b"BagIt-Version: 1.0\r\nTag-File-Character-Encoding: UTF-8\r\n").problems == []


def test_escapes() -> None:
    assert decode_path("data/a%0Ab%0dc%25d%41") == "data/a\nb\rc%d%41"
    for bad in ("/etc/passwd", "~/x", "~root/x", "data/../../x", "C:\\x", "file:///x", "\\\\?\\C:\\x"):
        assert unsafe_path(bad), bad
    assert unsafe_path("data/ok file.txt") is None


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


@given(_text)
def test_parsers_never_crash(text: str) -> None:
    parse_manifest("manifest-sha256.txt", text, "sha256")
    parse_bag_info(text)
    parse_fetch(text)
    parse_declaration(text.encode("utf-8"))


@given(
    st.lists(
        st.text(
            st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\%~:"),
            min_size=1,
            max_size=20,
        ).filter(lambda s: s not in (".", "..") and s.strip() == s and not s.startswith("*")),
        min_size=1,
        max_size=4,
    )
)
def test_safe_paths_round_trip(parts: list[str]) -> None:
    path = "data/" + "/".join(parts)
    line = f"{'0' * 64}  {path.replace('%', '%25')}\n"
    manifest = parse_manifest("manifest-sha256.txt", line, "sha256")
    assert [entry.path for entry in manifest.lines] == [path], manifest.problems
