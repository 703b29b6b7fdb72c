"""The BagIt layer of `verify-package` against the Library of Congress conformance suite and the
bagit-java test bags (corpus/bagit), including the cases bagit-python 1.9.0 gets wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from hujjat.export.bagit_check import check_bag

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

BAGIT = CORPUS / "bagit"
SUITE = BAGIT / "conformance-suite"
JAVA = BAGIT / "bagit-java"

pytestmark = pytest.mark.skipif(
    not SUITE.is_dir(), reason="corpus/bagit is not present beside the repository"
)

# Folder name in the suite -> expected outcome. windows-only cases "only bite on Windows"; we are
# stricter than needed on Linux and reject their drive-letter / UNC / %VAR% paths as unsafe too.
SUITE_EXPECT = {
    "valid": "valid",
    "invalid": "invalid",
    "warning": "warning",
    "linux-only": "invalid",
    "windows-only": "invalid",
}


def _suite_cases() -> list[tuple[str, str]]:
    if not SUITE.is_dir():
        return []
    return [
        (str(case.relative_to(SUITE)), SUITE_EXPECT[case.parent.name])
        for case in sorted(SUITE.glob("v*/*/*"))
        if case.is_dir()
    ]


# Expected outcomes from the upstream Java tests (corpus/bagit/README.md section 2).
JAVA_EXPECT = {
    "bags/v0_93/bag": "valid",
    "bags/v0_94/bag": "valid",
    "bags/v0_95/bag": "valid",
    "bags/v0_96/bag": "valid",
    "bags/v0_97/bag": "valid",
    "bags/v0_96/bag-in-a-bag": "valid",
    "bags/v0_96/bag-with-encoded-names": "valid",
    "bags/v0_96/bag-with-escapable-characters": "valid",
    "bags/v0_96/bag-with-leading-dot-slash-in-manifest": "valid",
    "bags/v0_96/bag-with-space": "valid",
    "bags/v0_96/bag-with-tagfiles-in-payload-manifest": "valid",
    "bags/v0_96/holey-bag": "valid",
    "bags/v2_0/bag": "invalid",  # bagit-java's experimental .bagit layout is not RFC 8493
    "corruptPayloadFile": "invalid",
    "corruptTagFile": "invalid",
    "badPayloadOxumByteSize/bag": "invalid",
    "badPayloadOxumFileCount/bag": "invalid",
    "bad-fetch-bag": "invalid",
    "filesInManifestDontExist": "invalid",
    "filesInPayloadDirAreNotInManifest": "invalid",
    "notAllFilesListedInAllManifestsBag": "invalid",  # bagit-python 1.9.0 accepts it
    # bagit-java's *linter* only warns MANIFEST_SETS_DIFFER; its verifier, like RFC 8493 section 3,
    # refuses a manifest that names an absent file (data/bar.txt).
    "payloadManifestsDiffer": "invalid",
    "tagManifestsDiffer": "warning",
    "sha3Bag": "valid",  # SHA3-256 is supported here (bagit-java needs an extension)
    "bag-with-leading-dot-slash-in-manifest": "valid",
    "ISO-8859-1-encodedBag": "valid",
    # Upstream only tests that it can be *read*; its fetch.txt names data/dir1/test3.txt, which no
    # payload manifest lists, so RFC 8493 2.2.3 makes it invalid.
    "UTF-16-encoded-tag-files": "invalid",
    "linterTestBag": "invalid",  # "not actually a valid bag"
    "hiddenFoldersAndFiles": "invalid",
    "dotKeepExampleBag": "invalid",
}

# The reason each invalid bag must be refused for (a fragment of one of the problems).
REASONS = {
    "v0.97/invalid/baginfo-missing-encoding": "lacks Tag-File-Character-Encoding",
    "v0.97/invalid/bom-in-bagit.txt": "byte-order mark",
    "v0.97/invalid/corrupt-data-file": "data/bare-filename: checksum differs",
    "v0.97/invalid/corrupt-tag-file": "bag-info.txt: checksum differs",
    "v0.97/invalid/extra-file-in-bag": "data/bar is in the payload but not listed",
    "v0.97/invalid/invalid-version-number": "not MAJOR.MINOR",
    "v0.97/invalid/missing-baginfo": "bag-info.txt is listed in tagmanifest-md5.txt but missing",
    "v0.97/invalid/missing-bagit.txt": "bagit.txt is missing",
    "v0.97/invalid/out-of-scope-file-paths-using-dot-notation": "`..` segment",
    "v0.97/invalid/out-of-scope-file-paths-using-dot-notation-for-fetch": "fetch.txt line 1: unsafe path",
    "v0.97/invalid/same-filename-listed-twice-with-different-hashes": "twice with different checksums",
    "v1.0/invalid/bagit-with-invalid-whitespace": "is not `Label: value`",
    "v1.0/invalid/notAllManifestsListAllFiles": "not listed in manifest-sha512.txt",
    "v1.0/invalid/same-filename-listed-twice-with-different-hashes": "twice with different checksums",
    "v1.0/invalid/same-filename-listed-twice-with-the-same-hash": "lists data/README twice",
    "corruptPayloadFile": "data/dir1/test3.txt: checksum differs",
    "corruptTagFile": "bagit.txt: checksum differs",
    "badPayloadOxumByteSize/bag": "Payload-Oxum says 5 files and 20 bytes",
    "badPayloadOxumFileCount/bag": "Payload-Oxum says 2 files",
    "bad-fetch-bag": "data/ is missing",
    "filesInManifestDontExist": "is listed in manifest-md5.txt but missing",
    "filesInPayloadDirAreNotInManifest": "data/test1.txt is in the payload but not listed",
    "notAllFilesListedInAllManifestsBag": "data/ham is in the payload but not listed in manifest-sha256.txt",
    "payloadManifestsDiffer": "data/bar.txt is listed in manifest-sha256.txt but missing",
    "UTF-16-encoded-tag-files": "in fetch.txt but not listed",
}


def _outcome(path: Path) -> tuple[str, list[str], list[str]]:
    report = check_bag(path)
    if not report.ok:
        return "invalid", report.problems, report.warnings
    return ("warning" if report.warnings else "valid"), report.problems, report.warnings


def _assert(name: str, path: Path, expected: str) -> None:
    outcome, problems, warnings = _outcome(path)
    if expected == "valid":
        # "valid" bags must pass; a harmless warning (e.g. a repeated Bagging-Date) is allowed.
        assert outcome in ("valid", "warning"), (name, problems)
    else:
        assert outcome == expected, (name, outcome, problems, warnings)
    if name in REASONS:
        assert any(REASONS[name] in p for p in problems), (name, problems)


@pytest.mark.parametrize(("name", "expected"), _suite_cases())
def test_conformance_suite(name: str, expected: str) -> None:
    _assert(name, SUITE / name, expected)


@pytest.mark.parametrize(("name", "expected"), sorted(JAVA_EXPECT.items()))
def test_bagit_java_bags(name: str, expected: str) -> None:
    _assert(name, JAVA / name, expected)


def test_suite_is_complete() -> None:
    """Every case folder is covered (none silently skipped) and there are the documented 62."""
    assert len(_suite_cases()) >= 60
