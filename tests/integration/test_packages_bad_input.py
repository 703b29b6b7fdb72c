"""Damaged and forged packages: verify-package names what fails, import bag refuses and changes
nothing (unless --force, which is recorded)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hujjat.bootstrap import open_archive
from hujjat.entrypoints.cli.main import main

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
TSA = CORPUS / "rfc3161" / "trailofbits_rfc3161-client" / "test_tsa"


class World:
    """One sender with a package and one receiver, shared by the module: every test copies the
    package before damaging it, and refused imports leave the receiver unchanged."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.sender, self.receiver = tmp_path / "sender", tmp_path / "receiver"
        assert main(["init", str(self.sender)]) == 0
        assert main(["init", str(self.receiver)]) == 0
        (tmp_path / "in").mkdir()
        (tmp_path / "in" / "a.txt").write_text("первое свидетельство\n", encoding="utf-8")
        (tmp_path / "in" / "b.txt").write_text("second witness statement\n")
        assert self.run("add", str(tmp_path / "in"), "--archive", str(self.sender))[0] == 0
        ids = [
            i["id"] for i in json.loads(self.run("list", "--json", "--archive", str(self.sender))[1])["items"]
        ]
        self.original = tmp_path / "original"
        args = ["export", "bag", str(self.original), "--archive", str(self.sender)]
        for item_id in ids:
            args += ["--item", item_id]
        assert self.run(*args)[0] == 0
        self.private = serialization.load_pem_private_key(
            (self.sender / "keys" / "archive-signing.key").read_bytes(), password=None
        )

    def run(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
        return code, out.getvalue(), err.getvalue()

    def copy(self, name: str) -> Path:
        target = self.tmp / name
        shutil.copytree(self.original, target)
        for path in [target, *target.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        return target

    def receiver_state(self) -> tuple[int, int]:
        arch = open_archive(self.receiver)
        try:
            with arch.ports.uow(read_only=True) as tx:
                return tx.items.count(), sum(1 for _ in tx.custody.iter_entries())
        finally:
            arch.close()


def reseal(package: Path, key: Ed25519PrivateKey) -> None:
    """Re-hash every listed tag file and re-sign, as someone holding `key` would."""
    manifest = package / "tagmanifest-sha256.txt"
    lines = []
    for line in manifest.read_text().splitlines():
        rel = line.split("  ", 1)[1]
        lines.append(f"{hashlib.sha256((package / rel).read_bytes()).hexdigest()}  {rel}\n")
    manifest.write_text("".join(lines))
    (package / "tagmanifest-sha256.txt.sig").write_bytes(key.sign(manifest.read_bytes()))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("packages"))


def _payload(package: Path) -> list[Path]:
    return sorted(p for p in (package / "data").rglob("*") if p.is_file())


def _extra(p: Path) -> None:
    (p / "data" / "extra.txt").write_text("slipped in")


def _missing(p: Path) -> None:
    _payload(p)[0].unlink()


def _changed(p: Path) -> None:
    _payload(p)[0].write_text("altered content")


def _unlisted_tag(p: Path) -> None:
    (p / "hujjat" / "notes.txt").write_text("added later")


def _forged_signature(p: Path) -> None:
    (p / "tagmanifest-sha256.txt.sig").write_bytes(Ed25519PrivateKey.generate().sign(b"something else"))


def _tag_edit(p: Path) -> None:
    info = p / "bag-info.txt"
    info.write_text(info.read_text().replace("Hujjat evidence package", "Harmless package"))
    reseal_manifest_only(p)


def reseal_manifest_only(p: Path) -> None:
    sig = (p / "tagmanifest-sha256.txt.sig").read_bytes()
    reseal(p, Ed25519PrivateKey.generate())
    (p / "tagmanifest-sha256.txt.sig").write_bytes(sig)


def _no_payload_fetch(p: Path) -> None:
    (p / "fetch.txt").write_text("https://example.org/x 5 data/x\n")


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "extra file": (_extra, "data/extra.txt is in the payload but not listed in manifest-sha256.txt"),
    "missing file": (_missing, "is listed in manifest-sha256.txt but missing"),
    "changed file": (_changed, "checksum differs from manifest-sha256.txt"),
    "unlisted tag file": (_unlisted_tag, "hujjat/notes.txt is not listed in tagmanifest-sha256.txt"),
    "forged signature": (_forged_signature, "signature over tagmanifest-sha256.txt does not verify"),
    "tag file edited, manifest re-hashed": (
        _tag_edit,
        "signature over tagmanifest-sha256.txt does not verify",
    ),
    "fetch.txt": (_no_payload_fetch, "fetch.txt: a Hujjat package carries its payload"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_damaged_package_is_named_and_refused(world: World, case: str) -> None:
    damage, expected = CASES[case]
    package = world.copy(case.replace(" ", "-").replace(",", ""))
    damage(package)
    code, out, err = world.run("verify-package", str(package), "--json")
    assert code == 1
    problems = json.loads(out)["problems"]
    assert any(expected in p for p in problems), problems
    before = world.receiver_state()
    code, _, err = world.run("import", "bag", str(package), "--archive", str(world.receiver))
    assert code == 1 and "package refused, nothing imported" in err
    assert "Traceback" not in err
    # nothing changed beyond the end-of-command checkpoint
    assert world.receiver_state() == before


def test_custody_excerpt_tampering_is_found_even_when_resigned(world: World) -> None:
    """Someone with the archive key re-signs a package whose excerpt was altered: the links and the
    checkpoint still expose it."""
    package = world.copy("excerpt")
    custody = package / "hujjat" / "custody.jsonl"
    lines = custody.read_bytes().splitlines()
    entry = json.loads(lines[1])
    entry["actor"] = "someone else"
    lines[1] = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    custody.write_bytes(b"\n".join(lines) + b"\n")
    reseal(package, world.private)  # type: ignore[arg-type]
    code, out, _ = world.run("verify-package", str(package), "--json")
    problems = json.loads(out)["problems"]
    assert code == 1
    assert any("does not link to entry" in p for p in problems), problems


def test_pinned_key_exposes_a_package_resigned_by_someone_else(world: World) -> None:
    package = world.copy("resigned")
    attacker = Ed25519PrivateKey.generate()
    pem = attacker.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (package / "hujjat" / "archive-public-key.pem").write_bytes(pem)
    reseal(package, attacker)
    code, out, _ = world.run(
        "verify-package", str(package), "--json", "--key", str(world.sender / "keys" / "archive-signing.pub")
    )
    problems = json.loads(out)["problems"]
    assert code == 1 and any("not with the pinned key" in p for p in problems), problems
    # without the pin the key-id bookkeeping in package.json and bag-info still disagrees
    assert any("package.json says" in p for p in problems)


@pytest.mark.skipif(not TSA.is_dir(), reason="corpus/rfc3161 is not present")
def test_timestamp_token_for_other_data_is_refused(world: World) -> None:
    package = world.copy("token")
    shutil.copy(TSA / "response.tsr", package / "tagmanifest-sha256.txt.tsr")
    shutil.copy(TSA / "ts_chain.pem", package / "tagmanifest-sha256.txt.tsr.pem")
    code, out, _ = world.run("verify-package", str(package), "--json")
    report = json.loads(out)
    assert code == 1
    assert any("tagmanifest-sha256.txt.tsr: the token is for other data" in p for p in report["problems"])
    assert report["timestamp"]["ok"] is False


def test_force_imports_and_records_it(world: World) -> None:
    package = world.copy("forced")
    _changed(package)
    receiver = world.tmp / "forced-receiver"
    assert world.run("init", str(receiver))[0] == 0
    code, out, err = world.run("import", "bag", str(package), "--force", "--json", "--archive", str(receiver))
    assert code == 0, err
    result = json.loads(out)
    assert result["forced"] and not result["ok"]
    arch = open_archive(receiver)
    try:
        with arch.ports.uow(read_only=True) as tx:
            (stored,) = tx.packages.imports()
            assert stored.forced and not stored.verified and stored.problems
            bodies = [json.loads(e.body) for e in tx.custody.iter_entries()]
    finally:
        arch.close()
    imported = [b for b in bodies if b["action"] == "package.imported"]
    assert imported and imported[0]["details"]["forced"] is True and imported[0]["details"]["problems"]
    assert world.run("verify", "--archive", str(receiver))[0] == 0


def test_not_a_package(world: World) -> None:
    plain = world.tmp / "plain"
    plain.mkdir()
    (plain / "file.txt").write_text("x")
    code, _, err = world.run("verify-package", str(plain))
    assert code == 1 and "bagit.txt is missing" in err
    code, _, err = world.run("import", "bag", str(plain), "--archive", str(world.receiver))
    assert code == 1 and "nothing imported" in err
    code, _, err = world.run("verify-package", str(world.tmp / "nowhere"))
    assert code == 1 and "not a directory" in err


def test_bagit_only_mode_checks_plain_bags(world: World) -> None:
    suite = CORPUS / "bagit" / "conformance-suite" / "v1.0"
    if not suite.is_dir():
        pytest.skip("corpus/bagit is not present")
    assert world.run("verify-package", str(suite / "valid" / "basicBag"), "--bagit-only")[0] == 0
    assert world.run("verify-package", str(suite / "valid" / "basicBag"))[0] == 1  # not a Hujjat package
    code, _, err = world.run(
        "verify-package", str(suite / "invalid" / "bagit-with-invalid-whitespace"), "--bagit-only"
    )
    assert code == 1 and "is not `Label: value`" in err


@pytest.mark.parametrize(
    ("case", "valid"),
    [
        ("v1.0/valid/basicBag", True),
        ("v0.97/valid/holey-bag", True),
        ("v0.97/warning/duplicate-file-with-different-case", True),
        ("v1.0/invalid/bagit-with-invalid-whitespace", False),
        ("v1.0/invalid/notAllManifestsListAllFiles", False),
        ("v0.97/invalid/corrupt-data-file", False),
    ],
)
def test_import_of_plain_bags_follows_the_suite(world: World, case: str, valid: bool) -> None:
    """A plain bag is not a Hujjat package, so import refuses it; the BagIt verdict it reports is
    the suite's (cases bagit-python gets wrong included), and --force brings a valid one in."""
    bag = CORPUS / "bagit" / "conformance-suite" / case
    if not bag.is_dir():
        pytest.skip("corpus/bagit is not present")
    code, _, err = world.run("import", "bag", str(bag), "--archive", str(world.receiver))
    assert code == 1 and "nothing imported" in err
    assert ("BagIt:" not in err) == valid, err
    if valid:
        receiver = world.tmp / ("plain-" + case.replace("/", "-"))
        assert world.run("init", str(receiver))[0] == 0
        code, out, err = world.run("import", "bag", str(bag), "--force", "--json", "--archive", str(receiver))
        assert code == 0, err
        assert json.loads(out)["items"] >= 1 and json.loads(out)["forced"]
