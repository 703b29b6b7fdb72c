"""BagIt (RFC 8493) validation that follows the Library of Congress conformance suite.

Why our own checker and not only `bagit.Bag(path).validate()`: bagit-python 1.9.0 disagrees with
the suite on several cases (corpus/bagit/README.md): it accepts `BagIt-Version : 1.0`, accepts a
bag whose second manifest lacks a file, rejects valid-with-warning bags on case-sensitive
filesystems and cannot read SHA-3 manifests. This module implements the RFC's completeness and
validity rules directly; the tests run it over every applicable suite case and check that bags
Hujjat writes are also accepted by bagit-python.

Result: `problems` (the bag is invalid) and `warnings` (valid, but something is odd: `./` or `*`
before paths, a file named twice under different case or Unicode normalisation, OS junk files,
tag manifests listing different files, files in fetch.txt not fetched yet).
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hujjat.export.bagit_parse import (
    ALGORITHMS,
    BagInfo,
    Fetch,
    Manifest,
    Parsed,
    decode_tag_text,
    parse_bag_info,
    parse_declaration,
    parse_fetch,
    parse_manifest,
)

CHUNK = 1024 * 1024
JUNK_FILES = {"thumbs.db", ".ds_store", "desktop.ini"}


@dataclass
class BagReport:
    path: str
    version: str | None = None
    encoding: str | None = None
    payload_files: int = 0
    payload_bytes: int = 0
    algorithms: list[str] = field(default_factory=list)
    info: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # decoded payload manifest entries: path -> {algorithm: digest}
    payload: dict[str, dict[str, str]] = field(default_factory=dict)
    tag_manifest_paths: dict[str, set[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def absorb(self, parsed: Parsed) -> None:
        self.problems.extend(parsed.problems)
        self.warnings.extend(parsed.warnings)


def _is_junk(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.lower() in JUNK_FILES or name.startswith("._")


def _fold(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()


def _walk(root: Path, sub: str, report: BagReport) -> dict[str, int]:
    """Relative path -> size for every regular file under root/sub; symlinks are refused."""
    found: dict[str, int] = {}
    base = root / sub
    for dirpath, dirnames, filenames in os.walk(base):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        for name in list(dirnames):
            if (Path(dirpath) / name).is_symlink():
                report.problems.append(f"{rel_dir}/{name} is a symbolic link (not allowed in a bag)")
                dirnames.remove(name)
        for name in filenames:
            full = Path(dirpath) / name
            if full.is_symlink() or not full.is_file():
                report.problems.append(f"{rel_dir}/{name} is not a regular file")
                continue
            found[f"{rel_dir}/{name}"] = full.stat().st_size
    return found


def _hash_file(path: Path, algorithms: set[str], on_bytes: Callable[[int], None] | None) -> dict[str, str]:
    digests = {name: hashlib.new(name) for name in algorithms}
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            for digest in digests.values():
                digest.update(chunk)
            if on_bytes:
                on_bytes(len(chunk))
    return {name: d.hexdigest() for name, d in digests.items()}


class _Checker:
    def __init__(self, root: Path, on_bytes: Callable[[int], None] | None) -> None:
        self.root = root
        self.on_bytes = on_bytes
        self.report = BagReport(str(root))

    def tag_text(self, name: str, out: Parsed) -> str | None:
        assert self.report.encoding is not None
        return decode_tag_text((self.root / name).read_bytes(), self.report.encoding, name, out)

    def run(self, hash_files: bool) -> BagReport:
        report, root = self.report, self.root
        if not (root / "bagit.txt").is_file():
            report.problems.append("not a bag: bagit.txt is missing")
            return report
        declaration = parse_declaration((root / "bagit.txt").read_bytes())
        report.absorb(declaration)
        report.version, report.encoding = declaration.version, declaration.encoding
        if report.encoding is None:
            return report
        if not (root / "data").is_dir():
            report.problems.append("the payload directory data/ is missing")
        payload_manifests = self.manifests("manifest-")
        if not payload_manifests:
            report.problems.append("no payload manifest (manifest-<algorithm>.txt) that can be checked")
        tag_manifests = self.manifests("tagmanifest-")
        info = self.bag_info()
        fetch = self.fetch()
        on_disk = _walk(root, "data", report) if (root / "data").is_dir() else {}
        fetched_later = {line.path for line in fetch.lines if line.path not in on_disk}
        self.check_payload(payload_manifests, on_disk, fetch)
        self.check_tags(tag_manifests)
        self.check_oxum(info, on_disk)
        report.payload_files, report.payload_bytes = len(on_disk), sum(on_disk.values())
        if fetched_later:
            report.warnings.append(
                f"fetch.txt names {len(fetched_later)} payload files not present yet "
                "(the bag is complete only after fetching them)"
            )
        if hash_files:
            self.check_hashes(payload_manifests + tag_manifests, on_disk)
        return report

    def manifests(self, prefix: str) -> list[Manifest]:
        found = []
        for path in sorted(self.root.glob(prefix + "*.txt")):
            name = path.name
            key = name[len(prefix) : -len(".txt")]
            algorithm = ALGORITHMS.get(key)
            if algorithm is None or algorithm not in hashlib.algorithms_available:
                self.report.warnings.append(f"{name}: unsupported algorithm {key!r}, not checked")
                continue
            manifest = Manifest(name=name)
            text = self.tag_text(name, manifest)
            if text is not None:
                manifest = parse_manifest(name, text, algorithm)
            self.report.absorb(manifest)
            self.check_duplicates(manifest)
            found.append(manifest)
            if algorithm not in self.report.algorithms:
                self.report.algorithms.append(algorithm)
        return found

    def check_duplicates(self, manifest: Manifest) -> None:
        """The same file twice: an error in 1.0 or with different checksums; otherwise a warning.
        Names that differ only in case or Unicode normalisation would be one file on many
        filesystems: a warning when the checksums agree."""
        exact: dict[str, str] = {}
        folded: dict[str, tuple[str, str]] = {}
        for line in manifest.lines:
            if line.path in exact:
                if exact[line.path] != line.digest:
                    self.report.problems.append(
                        f"{manifest.name} lists {line.path} twice with different checksums"
                    )
                elif self.report.version == "1.0":
                    self.report.problems.append(f"{manifest.name} lists {line.path} twice")
                else:
                    self.report.warnings.append(f"{manifest.name} lists {line.path} twice (same checksum)")
                continue
            exact[line.path] = line.digest
            key = _fold(line.path)
            if key in folded:
                other, digest = folded[key]
                message = (
                    f"{manifest.name} lists {other!r} and {line.path!r}, "
                    "the same name in another case or normalisation"
                )
                if digest != line.digest:
                    self.report.problems.append(message + " with different checksums")
                else:
                    self.report.warnings.append(message)
            else:
                folded[key] = (line.path, line.digest)

    def bag_info(self) -> BagInfo:
        # BagIt 0.93-0.95 called the file package-info.txt.
        name = next((n for n in ("bag-info.txt", "package-info.txt") if (self.root / n).is_file()), None)
        if name is None:
            return BagInfo()
        holder = BagInfo()
        text = self.tag_text(name, holder)
        info = parse_bag_info(text, name) if text is not None else holder
        if text is not None:
            info.warnings.extend(holder.warnings)
        self.report.absorb(info)
        self.report.info = info.tags
        for label in ("Payload-Oxum", "Bagging-Date", "Bag-Size", "Bag-Count"):
            if len(info.values(label)) > 1:
                target = self.report.problems if label == "Payload-Oxum" else self.report.warnings
                target.append(f"{name} repeats {label}")
        return info

    def fetch(self) -> Fetch:
        if not (self.root / "fetch.txt").is_file():
            return Fetch()
        holder = Fetch()
        text = self.tag_text("fetch.txt", holder)
        fetch = parse_fetch(text) if text is not None else holder
        self.report.absorb(fetch)
        return fetch

    def resolve(self, listed: str, on_disk: dict[str, int], folded: dict[str, str], where: str) -> str | None:
        if listed in on_disk:
            return listed
        other = folded.get(_fold(listed))
        if other is not None:
            self.report.warnings.append(
                f"{where} lists {listed!r}, found only as {other!r} (different case or Unicode normalisation)"
            )
            return other
        return None

    def check_payload(self, manifests: list[Manifest], on_disk: dict[str, int], fetch: Fetch) -> None:
        report = self.report
        folded = {_fold(p): p for p in on_disk}
        fetch_paths = {line.path for line in fetch.lines}
        for manifest in manifests:
            covered: set[str] = set()
            for line in manifest.lines:
                if not line.path.startswith("data/"):
                    if report.version != "1.0" and (self.root / line.path).is_file():
                        report.warnings.append(
                            f"{manifest.name} lists the tag file {line.path!r} (pre-1.0 habit)"
                        )
                    else:
                        report.problems.append(
                            f"{manifest.name} lists {line.path!r}, which is not under data/"
                        )
                    continue
                actual = self.resolve(line.path, on_disk, folded, manifest.name)
                if actual is None:
                    if line.path in fetch_paths:
                        continue
                    if _is_junk(line.path):
                        report.warnings.append(
                            f"{manifest.name} lists the system file {line.path}, which is absent"
                        )
                    else:
                        report.problems.append(f"{line.path} is listed in {manifest.name} but missing")
                    continue
                covered.add(actual)
                report.payload.setdefault(actual, {})[manifest.algorithm or ""] = line.digest
            for path in sorted(set(on_disk) - covered):
                if _is_junk(path):
                    report.warnings.append(f"system file {path} is not in {manifest.name}")
                else:
                    report.problems.append(f"{path} is in the payload but not listed in {manifest.name}")
            for path in sorted(fetch_paths - {line.path for line in manifest.lines}):
                report.problems.append(f"{path} is in fetch.txt but not listed in {manifest.name}")

    def check_tags(self, manifests: list[Manifest]) -> None:
        report = self.report
        for manifest in manifests:
            paths: set[str] = set()
            for line in manifest.lines:
                if line.path.startswith("data/"):
                    report.problems.append(f"{manifest.name} lists the payload file {line.path}")
                elif not (self.root / line.path).is_file():
                    report.problems.append(f"tag file {line.path} is listed in {manifest.name} but missing")
                else:
                    paths.add(line.path)
            report.tag_manifest_paths[manifest.name] = paths
        sets = {frozenset(p) for p in report.tag_manifest_paths.values()}
        if len(sets) > 1:
            report.warnings.append("the tag manifests list different sets of tag files")

    def check_oxum(self, info: BagInfo, on_disk: dict[str, int]) -> None:
        values = info.values("Payload-Oxum")
        if len(values) != 1:
            return
        octets, _, count = values[0].partition(".")
        if not (octets.isdigit() and count.isdigit()):
            self.report.problems.append(f"Payload-Oxum {values[0]!r} is not `octets.count`")
            return
        actual = (sum(on_disk.values()), len(on_disk))
        if (int(octets), int(count)) != actual:
            message = (
                f"Payload-Oxum says {int(count)} files and {int(octets)} bytes, "
                f"the payload has {actual[1]} files and {actual[0]} bytes"
            )
            junk_explains = any("system file" in w for w in self.report.warnings)
            (self.report.warnings if junk_explains else self.report.problems).append(message)

    def check_hashes(self, manifests: list[Manifest], on_disk: dict[str, int]) -> None:
        wanted: dict[str, dict[str, list[tuple[str, str]]]] = {}
        folded = {_fold(p): p for p in on_disk}
        for manifest in manifests:
            assert manifest.algorithm is not None
            for line in manifest.lines:
                if line.path.startswith("data/"):
                    path = line.path if line.path in on_disk else folded.get(_fold(line.path))
                    if path is None:
                        continue
                else:
                    path = line.path
                wanted.setdefault(path, {}).setdefault(manifest.algorithm, []).append(
                    (manifest.name, line.digest)
                )
        for path in sorted(wanted):
            try:
                actual = _hash_file(self.root / path, set(wanted[path]), self.on_bytes)
            except OSError as exc:
                self.report.problems.append(f"{path} is unreadable ({exc.strerror or exc})")
                continue
            for algorithm, expectations in wanted[path].items():
                for manifest_name, digest in expectations:
                    if actual[algorithm] != digest:
                        self.report.problems.append(
                            f"{path}: checksum differs from {manifest_name} "
                            f"(expected {digest}, found {actual[algorithm]})"
                        )


def check_bag(
    root: Path, *, hash_files: bool = True, on_bytes: Callable[[int], None] | None = None
) -> BagReport:
    """Validate the bag at `root`: structure, completeness and (unless hash_files is False) every
    checksum in every payload and tag manifest."""
    if not root.is_dir():
        report = BagReport(str(root))
        report.problems.append(f"{root} is not a directory")
        return report
    return _Checker(root, on_bytes).run(hash_files)
