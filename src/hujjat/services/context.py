"""The bundle of ports one archive offers to the use cases; bootstrap builds it."""

from __future__ import annotations

from dataclasses import dataclass

from hujjat.ports import BlobStore, Clock, MetadataReader, Signer, UnitOfWork
from hujjat.ports.fingerprints import Fingerprinter
from hujjat.ports.search import SearchIndex


@dataclass
class ArchivePorts:
    archive_id: str
    uow: UnitOfWork
    store: BlobStore
    signer: Signer
    clock: Clock
    metadata: MetadataReader
    actor: str
    search: SearchIndex | None = None
    fingerprints: Fingerprinter | None = None
