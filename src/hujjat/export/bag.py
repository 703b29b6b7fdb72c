"""`export bag`: write a BagIt 1.0 package of evidence that anyone can check without Hujjat.

Layout (docs/packages.md describes each file and how to check it by hand):
  bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt, tagmanifest-sha256.txt
  data/<item id>/<original name>       the evidence files, byte for byte
  hujjat/package.json                  what the package holds (items, incidents, archive, key)
  hujjat/incidents.json                the incidents' records, when incidents were selected
  hujjat/custody.jsonl                 the custody entries about them, one canonical body a line
  hujjat/checkpoint.json               the archive's latest signed checkpoint
  hujjat/archive-public-key.pem        the archive's Ed25519 public key
  tagmanifest-sha256.txt.sig           Ed25519 signature over tagmanifest-sha256.txt (raw 64 bytes)
Files are streamed from the store and re-hashed on the way; a blob that no longer matches its
hash aborts the export. The bag is built in a temporary sibling folder and renamed into place,
so an interrupted export never leaves something that looks like a package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hujjat import __version__
from hujjat.domain.canonical import sha256_hex
from hujjat.domain.custody import utc_timestamp
from hujjat.domain.errors import IntegrityError, UsageError
from hujjat.domain.ids import new_id
from hujjat.domain.packages import PACKAGE_FORMAT
from hujjat.services.context import ArchivePorts
from hujjat.services.packages import PackageContents, collect_contents, record_export

CHUNK = 1024 * 1024
PACKAGE_JSON = "hujjat/package.json"
INCIDENTS_JSON = "hujjat/incidents.json"
CUSTODY_JSONL = "hujjat/custody.jsonl"
CHECKPOINT_JSON = "hujjat/checkpoint.json"
PUBLIC_KEY = "hujjat/archive-public-key.pem"
TAGMANIFEST = "tagmanifest-sha256.txt"
SIGNATURE = TAGMANIFEST + ".sig"
TOKEN = TAGMANIFEST + ".tsr"
TOKEN_CHAIN = TAGMANIFEST + ".tsr.pem"
UNLISTED = {TAGMANIFEST, SIGNATURE, TOKEN, TOKEN_CHAIN}


@dataclass(frozen=True)
class ExportResult:
    path: str
    package_id: str
    external_identifier: str
    items: int
    incidents: int
    custody_entries: int
    payload_bytes: int
    tagmanifest_sha256: str


def safe_name(name: str | None, fallback: str) -> str:
    """A file name that needs no BagIt escaping and is portable: no separators, controls, `%`,
    leading dots or Windows-reserved characters."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|%]', "_", text).strip().lstrip(".")
    return text[:200] or fallback


def _copy_verified(
    ports: ArchivePorts, sha256: str, target: Path, on_bytes: Callable[[int], None] | None
) -> str:
    """Stream a blob to target, hashing as it goes; return its SHA-512. Refuse a changed blob."""
    h256, h512 = hashlib.sha256(), hashlib.sha512()
    with ports.store.open(sha256) as source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            h256.update(chunk)
            h512.update(chunk)
            out.write(chunk)
            if on_bytes:
                on_bytes(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    if h256.hexdigest() != sha256:
        raise IntegrityError(f"blob {sha256} changed in the store (now {h256.hexdigest()}); export stopped")
    return h512.hexdigest()


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _manifest(entries: dict[str, str]) -> bytes:
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(entries.items())).encode("utf-8")


def _package_json(
    ports: ArchivePorts, contents: PackageContents, package_id: str, paths: dict[str, str]
) -> bytes:
    items = []
    for item in contents.items:
        items.append(
            {
                "id": item.id,
                "sha256": item.sha256,
                "size": item.size,
                "media_type": item.media_type,
                "path": paths[item.id],
                "acquisitions": [
                    {
                        "acquired_at": utc_timestamp(a.acquired_at),
                        "actor": a.actor,
                        "source_kind": a.source_kind,
                        "source": a.source,
                        "original_name": a.original_name,
                    }
                    for a in contents.acquisitions.get(item.id, [])
                ],
            }
        )
    return _json(
        {
            "format": PACKAGE_FORMAT,
            "package_id": package_id,
            "archive_id": ports.archive_id,
            "key_id": contents.key_id,
            "created": utc_timestamp(ports.clock.now()),
            "created_by": ports.actor,
            "software": f"hujjat {__version__}",
            "items": items,
            "incidents": [str(i["id"]) for i in contents.incidents],
            "custody": {"file": CUSTODY_JSONL, "entries": len(contents.custody)},
        }
    )


def _bag_info(ports: ArchivePorts, contents: PackageContents, package_id: str, oxum: str, org: str) -> bytes:
    now = ports.clock.now()
    lines = [
        ("Source-Organization", org),
        ("Bagging-Date", now.strftime("%Y-%m-%d")),
        ("Payload-Oxum", oxum),
        ("External-Identifier", f"{ports.archive_id}/{package_id}"),
        (
            "External-Description",
            f"Hujjat evidence package: {len(contents.items)} items, {len(contents.incidents)} incidents",
        ),
        ("Bag-Software-Agent", f"hujjat {__version__}"),
        ("Hujjat-Format", PACKAGE_FORMAT),
        ("Hujjat-Archive-Id", ports.archive_id),
        ("Hujjat-Package-Id", package_id),
        ("Hujjat-Key-Id", contents.key_id),
        ("Hujjat-Custody-Entries", str(len(contents.custody))),
    ]
    return "".join(f"{k}: {' '.join(v.split())}\n" for k, v in lines).encode("utf-8")


def write_bag(
    ports: ArchivePorts,
    out_dir: Path,
    *,
    items: list[str],
    incidents: list[str],
    organization: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> ExportResult:
    if not items and not incidents:
        raise UsageError("select what to export with --item and/or --incident")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UsageError(f"{out_dir} exists and is not an empty folder")
    contents = collect_contents(ports, items, incidents)
    package_id = new_id()
    tmp = out_dir.parent / f".{out_dir.name}.partial-{package_id}"
    tmp.mkdir(parents=True)
    try:
        result = _build(
            ports, tmp, contents, package_id, organization or f"Hujjat archive {ports.archive_id}", on_bytes
        )
        if out_dir.exists():
            out_dir.rmdir()
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    record_export(
        ports,
        package_id,
        {
            "external_identifier": result.external_identifier,
            "path": str(out_dir.resolve()),
            "tagmanifest_sha256": result.tagmanifest_sha256,
            "item_ids": [i.id for i in contents.items],
            "incident_ids": [str(i["id"]) for i in contents.incidents],
            "custody_entries": result.custody_entries,
            "payload_bytes": result.payload_bytes,
        },
    )
    return ExportResult(**{**result.__dict__, "path": str(out_dir)})


def _build(
    ports: ArchivePorts,
    root: Path,
    contents: PackageContents,
    package_id: str,
    organization: str,
    on_bytes: Callable[[int], None] | None,
) -> ExportResult:
    sha256s: dict[str, str] = {}
    sha512s: dict[str, str] = {}
    paths: dict[str, str] = {}
    for item in contents.items:
        acquisitions = contents.acquisitions.get(item.id, [])
        name = next((a.original_name for a in acquisitions if a.original_name), None)
        rel = f"data/{item.id}/{safe_name(name, item.sha256[:16])}"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        sha512s[rel] = _copy_verified(ports, item.sha256, root / rel, on_bytes)
        sha256s[rel] = item.sha256
        paths[item.id] = rel
    (root / "data").mkdir(exist_ok=True)
    payload_bytes = sum(item.size for item in contents.items)
    oxum = f"{payload_bytes}.{len(contents.items)}"
    tags: dict[str, bytes] = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": _bag_info(ports, contents, package_id, oxum, organization),
        "manifest-sha256.txt": _manifest(sha256s),
        "manifest-sha512.txt": _manifest(sha512s),
        PACKAGE_JSON: _package_json(ports, contents, package_id, paths),
        CUSTODY_JSONL: b"".join(entry.encode() + b"\n" for entry in contents.custody),
        PUBLIC_KEY: ports.signer.public_key_pem(),
    }
    if contents.incidents:
        tags[INCIDENTS_JSON] = _json(contents.incidents)
    if contents.checkpoint is not None:
        cp = contents.checkpoint
        tags[CHECKPOINT_JSON] = _json(
            {
                "archive": cp.checkpoint.archive,
                "seq": cp.checkpoint.seq,
                "head": cp.checkpoint.head,
                "time": cp.checkpoint.time,
                "signature": base64.b64encode(cp.signature).decode("ascii"),
                "key_id": contents.key_id,
            }
        )
    for rel, data in tags.items():
        _write(root, rel, data)
    tagmanifest = _manifest({rel: sha256_hex(data) for rel, data in tags.items()})
    _write(root, TAGMANIFEST, tagmanifest)
    _write(root, SIGNATURE, ports.signer.sign(tagmanifest))
    return ExportResult(
        path=str(root),
        package_id=package_id,
        external_identifier=f"{ports.archive_id}/{package_id}",
        items=len(contents.items),
        incidents=len(contents.incidents),
        custody_entries=len(contents.custody),
        payload_bytes=payload_bytes,
        tagmanifest_sha256=sha256_hex(tagmanifest),
    )
