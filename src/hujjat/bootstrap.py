"""The one place that reads configuration and wires adapters into the ports the services use."""

from __future__ import annotations

import getpass
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from hujjat.adapters.blobs import open_store
from hujjat.adapters.crypto.archive import encryption_table, unlock
from hujjat.adapters.crypto.keyring import Keyring, Secret, create_keyring
from hujjat.adapters.crypto.wiring import protect_store, sqlcipher_key
from hujjat.adapters.db.engine import create_db_engine, upgrade_schema
from hujjat.adapters.db.field_cipher import blind_index_key, cipher_for, with_field_cipher
from hujjat.adapters.db.repositories import SqlUnitOfWork
from hujjat.adapters.db.tables import archive_info
from hujjat.adapters.hash_index import INDEX_DIR, FaissHashIndex
from hujjat.adapters.search.blind import protect_search
from hujjat.adapters.search.index import SqlSearchIndex
from hujjat.adapters.signing import Ed25519Signer
from hujjat.config import ArchiveConfig, load_config, write_config
from hujjat.domain.custody import utc_timestamp
from hujjat.domain.errors import ArchiveError
from hujjat.domain.evidence import MetadataRecord
from hujjat.domain.ids import new_id
from hujjat.domain.near_duplicates import DedupSettings
from hujjat.processing.fingerprint_engine import PdqFingerprinter

if TYPE_CHECKING:
    from hujjat.processing.metadata_worker import MetadataProcess
from hujjat.processing.text.analyzer import SearchTextAnalyzer
from hujjat.services.checkpoints import sign_checkpoint
from hujjat.services.context import ArchivePorts

KEY_DIR = "keys"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ProcessingMetadataReader:
    """Adapts the processing plug-ins to the MetadataReader port; imported lazily (PyAV, Pillow).
    Inside `parallel()` extraction runs in a child process (processing.metadata_worker)."""

    def __init__(self, exiftool_mode: str) -> None:
        self.exiftool_mode = exiftool_mode
        self._worker: MetadataProcess | None = None
        self._users = 0
        self._users_lock = threading.Lock()
        if exiftool_mode != "auto":  # `[metadata] exiftool`: the processing layer's documented switch
            os.environ["HUJJAT_EXIFTOOL"] = exiftool_mode

    def detect_media_type(self, path: Path) -> str:
        from hujjat.processing.media_types import detect_media_type

        return detect_media_type(path)

    def extract(self, path: Path, media_type: str) -> MetadataRecord:
        worker = self._worker
        if worker is not None:
            return worker.extract(path, media_type)
        from hujjat.processing.metadata import extract_metadata

        return extract_metadata(path, media_type)

    @contextmanager
    def parallel(self) -> Iterator[None]:
        """One child for every block open at once (web jobs may overlap); the last one out ends it.
        The child `hujjat add` started before its imports is taken over (MetadataProcess.adopt)."""
        from hujjat.processing.metadata_worker import MetadataProcess

        with self._users_lock:
            self._users += 1
            if self._worker is None:
                self._worker = MetadataProcess.adopt()
            worker = self._worker
        try:
            worker.start()
            yield
        finally:
            with self._users_lock:
                self._users -= 1
                if not self._users:
                    self._worker = None
                    worker.close()


def default_actor(explicit: str | None = None) -> str:
    if explicit:
        return explicit
    env = os.environ.get("HUJJAT_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass
class Archive:
    config: ArchiveConfig
    engine: sa.Engine
    ports: ArchivePorts

    def close(self) -> None:
        if self.ports.fingerprints is not None:  # a throttled hash index: keep what this run added
            self.ports.fingerprints.index.save(force=True)
        self.engine.dispose()


def _fingerprinter(config: ArchiveConfig) -> PdqFingerprinter | None:
    """PDQ/vPDQ fingerprints with an index under <archive>/index; `[dedup] enabled = false` turns
    them off; other [dedup] keys are thresholds (domain.near_duplicates.DedupSettings)."""
    raw = dict(config.extra.get("dedup", {}))
    if not raw.pop("enabled", True):
        return None
    try:
        settings = DedupSettings.from_mapping(raw)
    except ValueError as exc:
        raise ArchiveError(f"hujjat.toml: {exc}") from None
    return PdqFingerprinter(settings, FaissHashIndex(config.root / INDEX_DIR))


def _build(
    config: ArchiveConfig, signer: Ed25519Signer, actor: str, keyring: Keyring | None = None
) -> Archive:
    # None unless hujjat.toml has `[encryption]` (docs/protection.md); asks for the secret.
    keyring = keyring or unlock(config.root, config.extra)
    engine = create_db_engine(config.database_url, sqlcipher_key(config.extra, keyring, config.database_url))
    upgrade_schema(engine)
    engine = with_field_cipher(engine, cipher_for(keyring, config.extra))  # server databases: sealed fields
    fingerprints = _fingerprinter(config)
    store = protect_store(
        open_store(config.store_spec, config.root, config.s3_endpoint_url, config.s3_region),
        config.root, keyring, config.extra,
    )
    clock = SystemClock()
    analyzer = SearchTextAnalyzer()
    ports = ArchivePorts(
        archive_id=config.archive_id,
        uow=SqlUnitOfWork(engine, clock),
        store=store,
        signer=signer,
        clock=clock,
        metadata=ProcessingMetadataReader(config.exiftool),
        actor=actor,
        search=protect_search(  # restricted records: a blind index where fields are sealed
            SqlSearchIndex(engine, analyzer), engine, analyzer, blind_index_key(keyring, config.extra)
        ),
        fingerprints=fingerprints,
    )
    return Archive(config, engine, ports)


def init_archive(
    root: Path,
    *,
    database: str | None = None,
    store: str | None = None,
    s3_endpoint: str | None = None,
    s3_region: str | None = None,
    actor: str | None = None,
    encrypt: Secret | None = None,
) -> Archive:
    root = root.resolve()
    if (root / "hujjat.toml").exists():
        raise ArchiveError(f"{root} already holds an archive")
    if root.exists() and any(root.iterdir()):
        raise ArchiveError(f"{root} exists and is not empty; choose a new folder")
    root.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    config = ArchiveConfig(root=root, archive_id=new_id(), created=utc_timestamp(now))
    if database:
        config.database = database
    if store:
        config.store = store
    config.s3_endpoint, config.s3_region = s3_endpoint, s3_region
    signer = Ed25519Signer.create(root / KEY_DIR)
    keyring = None
    if encrypt is not None:
        keyring = create_keyring(root / KEY_DIR, encrypt)
        config.extra["encryption"] = encryption_table(config.database_url)
    write_config(config)
    archive = _build(config, signer, default_actor(actor), keyring)
    with archive.engine.begin() as conn:
        existing = conn.execute(sa.select(sa.func.count()).select_from(archive_info)).scalar_one()
        if existing:
            raise ArchiveError("the configured database already belongs to an archive; use an empty one")
        conn.execute(archive_info.insert().values(key="archive_id", value=config.archive_id))
    with archive.ports.uow() as tx:
        tx.custody.append(
            archive.ports.actor,
            "archive.created",
            config.archive_id,
            {
                "archive_id": config.archive_id,
                "key_id": signer.key_id,
                "database": config.database.split(":")[0],
            },
        )
    sign_checkpoint(archive.ports)
    return archive


def open_archive(root: Path, actor: str | None = None) -> Archive:
    root = root.resolve()
    config = load_config(root)
    signer = Ed25519Signer.load(root / KEY_DIR)
    archive = _build(config, signer, default_actor(actor))
    with archive.engine.connect().execution_options(hujjat_read_only=True) as conn:
        stored = conn.execute(
            sa.select(archive_info.c.value).where(archive_info.c.key == "archive_id")
        ).scalar_one_or_none()
    if stored != config.archive_id:
        raise ArchiveError("the configured database belongs to another archive (archive id differs)")
    return archive
