"""`verify-package`: check a Hujjat package fully offline, and name exactly what fails.

Layers, in order (docs/packages.md spells out each rule so it can be re-done by hand):
1. BagIt: structure, completeness and every checksum (bagit_check.check_bag).
2. Package: no fetch.txt; every tag file except the signature and timestamp files is listed in
   tagmanifest-sha256.txt; package.json's items match the payload manifest one to one.
3. Signature: the Ed25519 signature over tagmanifest-sha256.txt verifies with the included
   public key, whose id matches package.json and bag-info (and a pinned key, when given).
4. Custody excerpt: every line is a canonical entry body, its hash is SHA-256 of the line,
   consecutive entries link (`prev` = hash of the one before), every item has its `item.added`
   entry with the same SHA-256 and size; the signed checkpoint verifies and, when the excerpt
   holds the checkpoint's entry, its head equals that entry's hash.
5. Trusted timestamp, when present: the RFC 3161 token covers tagmanifest-sha256.txt.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hujjat.domain.canonical import sha256_hex
from hujjat.domain.custody import Checkpoint, CustodyEntry
from hujjat.domain.packages import PACKAGE_FORMAT
from hujjat.export.bag import (
    CHECKPOINT_JSON,
    CUSTODY_JSONL,
    PACKAGE_JSON,
    PUBLIC_KEY,
    SIGNATURE,
    TAGMANIFEST,
    TOKEN,
    TOKEN_CHAIN,
    UNLISTED,
)
from hujjat.export.bagit_check import BagReport, check_bag
from hujjat.export.timestamps import TimestampError, load_certificates, verify_token


def key_id_of(key: Ed25519PublicKey) -> str:
    """The archive key id: the first 16 hex digits of SHA-256 over the raw 32-byte public key
    (the same rule as adapters/signing.py; export may not import adapters)."""
    return sha256_hex(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))[:16]


@dataclass
class PackageReport:
    path: str
    bag: BagReport
    hujjat: bool = False
    archive_id: str | None = None
    package_id: str | None = None
    external_identifier: str | None = None
    key_id: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    custody: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, hash, body)
    signature: bytes = b""
    public_key_pem: str = ""
    tagmanifest_sha256: str | None = None
    timestamp: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "hujjat_package": self.hujjat,
            "archive_id": self.archive_id,
            "package_id": self.package_id,
            "external_identifier": self.external_identifier,
            "key_id": self.key_id,
            "items": len(self.items),
            "custody_entries": len(self.custody),
            "payload_files": self.bag.payload_files,
            "payload_bytes": self.bag.payload_bytes,
            "tagmanifest_sha256": self.tagmanifest_sha256,
            "timestamp": self.timestamp,
            "problems": self.problems,
            "warnings": self.warnings,
        }


def _read_json(root: Path, rel: str, report: PackageReport) -> Any:
    try:
        return json.loads((root / rel).read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.problems.append(f"{rel} is missing")
    except (ValueError, UnicodeDecodeError) as exc:
        report.problems.append(f"{rel} is not valid JSON ({exc})")
    return None


def _check_listing(root: Path, report: PackageReport) -> None:
    if (root / "fetch.txt").exists():
        report.problems.append(
            "fetch.txt: a Hujjat package carries its payload; remote files are not allowed"
        )
    listed = report.bag.tag_manifest_paths.get(TAGMANIFEST)
    if listed is None:
        report.problems.append(f"{TAGMANIFEST} is missing, so the tag files are not protected")
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("data/") or rel in UNLISTED or rel.startswith("tagmanifest-"):
            continue
        if rel not in listed:
            report.problems.append(f"{rel} is not listed in {TAGMANIFEST} (file added after packaging)")


def _check_items(package: dict[str, Any], report: PackageReport) -> None:
    payload = report.bag.payload
    claimed: set[str] = set()
    for item in package.get("items") or []:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            report.problems.append(f"{PACKAGE_JSON}: an item entry is malformed")
            continue
        report.items.append(item)
        path = item["path"]
        claimed.add(path)
        digests = payload.get(path)
        if digests is None:
            report.problems.append(f"item {item.get('id')}: {path} is not in the payload")
        elif digests.get("sha256") != item.get("sha256"):
            report.problems.append(
                f"item {item.get('id')}: {path} is not the file package.json names (sha256 differs)"
            )
    for path in sorted(set(payload) - claimed):
        report.problems.append(f"{path} is in the payload but package.json does not describe it")


def _load_key(root: Path, report: PackageReport, pinned: bytes | None) -> Ed25519PublicKey | None:
    try:
        pem = (root / PUBLIC_KEY).read_bytes()
        key = serialization.load_pem_public_key(pem)
    except FileNotFoundError:
        report.problems.append(f"{PUBLIC_KEY} is missing")
        return None
    except ValueError:
        report.problems.append(f"{PUBLIC_KEY} is not a readable public key")
        return None
    if not isinstance(key, Ed25519PublicKey):
        report.problems.append(f"{PUBLIC_KEY} is not an Ed25519 key")
        return None
    report.public_key_pem = pem.decode("ascii", "replace")
    key_id = key_id_of(key)
    if report.key_id and key_id != report.key_id:
        report.problems.append(f"the included public key has id {key_id}, package.json says {report.key_id}")
    info_ids = [v for k, v in report.bag.info if k.lower() == "hujjat-key-id"]
    if info_ids and info_ids[0] != key_id:
        report.problems.append(f"bag-info.txt names key {info_ids[0]}, the included key is {key_id}")
    report.key_id = key_id
    if pinned is not None:
        expected = serialization.load_pem_public_key(pinned)
        if not isinstance(expected, Ed25519PublicKey) or key_id_of(expected) != key_id:
            report.problems.append(f"the package is signed with key {key_id}, not with the pinned key")
    return key


def _check_signature(root: Path, key: Ed25519PublicKey, report: PackageReport) -> bytes | None:
    try:
        tagmanifest = (root / TAGMANIFEST).read_bytes()
        report.signature = (root / SIGNATURE).read_bytes()
    except FileNotFoundError as exc:
        report.problems.append(f"{Path(str(exc.filename)).name} is missing: the package is unsigned")
        return None
    report.tagmanifest_sha256 = sha256_hex(tagmanifest)
    try:
        key.verify(report.signature, tagmanifest)
    except InvalidSignature:
        report.problems.append(
            f"the signature over {TAGMANIFEST} does not verify (package altered or forged)"
        )
    return tagmanifest


def _check_custody(root: Path, key: Ed25519PublicKey | None, report: PackageReport) -> None:
    try:
        lines = (root / CUSTODY_JSONL).read_bytes().splitlines()
    except FileNotFoundError:
        report.problems.append(f"{CUSTODY_JSONL} is missing")
        return
    previous: tuple[int, str] | None = None
    added: dict[str, CustodyEntry] = {}
    for number, line in enumerate(lines, 1):
        where = f"{CUSTODY_JSONL} line {number}"
        try:
            entry = CustodyEntry.decode(line)
        except (ValueError, TypeError) as exc:
            report.problems.append(f"{where}: not a custody entry ({exc})")
            continue
        if entry.encode() != line:
            report.problems.append(f"{where}: not in canonical form, so its hash is not the archive's")
        digest = sha256_hex(line)
        if previous is not None:
            if entry.seq <= previous[0]:
                report.problems.append(f"{where}: seq {entry.seq} does not follow {previous[0]}")
            elif entry.seq == previous[0] + 1 and entry.prev != previous[1]:
                report.problems.append(f"{where}: entry {entry.seq} does not link to entry {previous[0]}")
        previous = (entry.seq, digest)
        report.custody.append((entry.seq, digest, line.decode("utf-8")))
        if entry.action == "item.added" and entry.subject:
            added[entry.subject] = entry
    for item in report.items:
        found = added.get(str(item.get("id")))
        if found is None:
            report.problems.append(f"item {item.get('id')}: no item.added entry in the custody excerpt")
        elif (found.details.get("sha256"), found.details.get("size")) != (
            item.get("sha256"),
            item.get("size"),
        ):
            report.problems.append(f"item {item.get('id')}: its item.added entry records other content")
    _check_checkpoint(root, key, report)


def _check_checkpoint(root: Path, key: Ed25519PublicKey | None, report: PackageReport) -> None:
    if not (root / CHECKPOINT_JSON).exists():
        report.warnings.append(f"{CHECKPOINT_JSON} is absent: the excerpt is not tied to a signed checkpoint")
        return
    data = _read_json(root, CHECKPOINT_JSON, report)
    try:
        cp = Checkpoint(str(data["archive"]), int(data["seq"]), str(data["head"]), str(data["time"]))
        signature = base64.b64decode(data["signature"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        report.problems.append(f"{CHECKPOINT_JSON} is malformed")
        return
    if report.archive_id and cp.archive != report.archive_id:
        report.problems.append(f"{CHECKPOINT_JSON} belongs to archive {cp.archive}, not {report.archive_id}")
    if key is not None:
        try:
            key.verify(signature, cp.message())
        except InvalidSignature:
            report.problems.append(f"{CHECKPOINT_JSON}: the checkpoint signature does not verify")
    hashes = {seq: digest for seq, digest, _ in report.custody}
    if cp.seq in hashes and hashes[cp.seq] != cp.head:
        report.problems.append(f"{CHECKPOINT_JSON}: entry {cp.seq} differs from the signed head")
    if report.custody and report.custody[-1][0] > cp.seq:
        report.problems.append(f"{CUSTODY_JSONL} has entries after the signed checkpoint (seq {cp.seq})")


def _check_timestamp(
    root: Path, tagmanifest: bytes, roots: list[x509.Certificate] | None, report: PackageReport
) -> None:
    if not (root / TOKEN).exists():
        return
    try:
        chain = load_certificates((root / TOKEN_CHAIN).read_bytes()) if (root / TOKEN_CHAIN).exists() else []
    except TimestampError as exc:
        report.problems.append(f"{TOKEN_CHAIN}: {exc}")
        return
    check = verify_token((root / TOKEN).read_bytes(), tagmanifest, chain, trusted_roots=roots)
    report.timestamp = {
        "ok": check.ok,
        "reason": check.reason,
        "gen_time": check.gen_time,
        "tsa": check.tsa,
        "root": check.root,
    }
    if not check.ok:
        report.problems.append(f"{TOKEN}: {check.reason}")
    report.warnings.extend(f"{TOKEN}: {w}" for w in check.warnings)
    if roots is None and check.ok:
        report.warnings.append(
            f"{TOKEN}: trusted through the root shipped in the package; pin it with --tsa-roots"
        )


def verify_package(
    path: Path,
    *,
    bagit_only: bool = False,
    pinned_key: bytes | None = None,
    tsa_roots: list[x509.Certificate] | None = None,
) -> PackageReport:
    root = path
    report = PackageReport(str(path), check_bag(root))
    report.problems.extend(f"BagIt: {p}" for p in report.bag.problems)
    report.warnings.extend(f"BagIt: {w}" for w in report.bag.warnings)
    if bagit_only or not root.is_dir() or not (root / "bagit.txt").is_file():
        return report
    if not (root / PACKAGE_JSON).exists():
        report.problems.append(
            f"not a Hujjat package ({PACKAGE_JSON} is missing); use --bagit-only for plain bags"
        )
        return report
    report.hujjat = True
    package = _read_json(root, PACKAGE_JSON, report)
    if not isinstance(package, dict):
        return report
    if package.get("format") != PACKAGE_FORMAT:
        report.problems.append(f"{PACKAGE_JSON}: unknown format {package.get('format')!r}")
    report.archive_id, report.package_id = package.get("archive_id"), package.get("package_id")
    report.key_id = package.get("key_id")
    ids = [v for k, v in report.bag.info if k.lower() == "external-identifier"]
    report.external_identifier = ids[0] if ids else f"{report.archive_id}/{report.package_id}"
    _check_listing(root, report)
    _check_items(package, report)
    key = _load_key(root, report, pinned_key)
    tagmanifest = _check_signature(root, key, report) if key is not None else None
    _check_custody(root, key, report)
    if tagmanifest is not None:
        _check_timestamp(root, tagmanifest, tsa_roots, report)
    return report
