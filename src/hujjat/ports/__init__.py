"""Ports: the small interfaces services need, implemented by adapters and chosen by bootstrap."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable

from hujjat.domain.custody import CustodyEntry, StoredCheckpoint, StoredEntry
from hujjat.domain.evidence import Acquisition, EvidenceItem, MetadataRecord, StoredBlob

if TYPE_CHECKING:
    from hujjat.ports.accounts import AccountRepository
    from hujjat.ports.capture import CaptureRepository
    from hujjat.ports.fingerprints import FingerprintRepository
    from hujjat.ports.incidents import IncidentRepository
    from hujjat.ports.packages import PackageRepository
    from hujjat.ports.posts import PostRepository
    from hujjat.ports.protection import ProtectionRepository

ProgressCallback = Callable[[int], None]


class BlobStore(Protocol):
    """A write-once, content-addressed store. The store itself hashes what it is given, so an
    object's name is always the SHA-256 of its bytes, and a crash never leaves a partial object
    under a real name."""

    description: str

    def put(self, source: BinaryIO, progress: ProgressCallback | None = None) -> StoredBlob: ...

    def open(self, sha256: str) -> AbstractContextManager[BinaryIO]: ...

    def size(self, sha256: str) -> int | None:
        """The stored size, or None when the object is missing."""
        ...

    def iter_objects(self) -> Iterator[tuple[str, int]]:
        """Every (sha256, size) in the store, temporary files excluded."""
        ...

    def local_path(self, sha256: str) -> Path | None:
        """A filesystem path to the bytes when the backend has one (tools like exiftool need it)."""
        ...

    def clean_temporary(self) -> int:
        """Remove temporary files left by processes that no longer run; return how many."""
        ...


@dataclass(frozen=True)
class StagedBlob:
    """Bytes a staging store has hashed and written but not yet made durable or given their
    real name (see StagingBlobStore). `path` holds them meanwhile; `present` says the store
    already had an object with this digest, so there is nothing to publish."""

    sha256: str
    size: int
    present: bool
    path: Path | None


@runtime_checkable
class StagingBlobStore(BlobStore, Protocol):
    """A store that can take many objects with one durability barrier instead of one each.

    `stage` writes and hashes; `publish` makes every staged object durable, then gives each its
    real name, then makes the names durable: a crash at any moment still leaves no partial
    object under a real name, and one filesystem sync serves a whole batch (fsyncing each photo,
    its new folders and its folder entry took half of ingest's time). `discard` drops what a
    failed batch staged."""

    def stage(self, source: BinaryIO, progress: ProgressCallback | None = None) -> StagedBlob: ...

    def publish(self, staged: Sequence[StagedBlob]) -> list[StoredBlob]: ...

    def discard(self, staged: Sequence[StagedBlob]) -> None: ...


class Signer(Protocol):
    key_id: str

    def sign(self, message: bytes) -> bytes: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...

    def public_key_pem(self) -> bytes: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class ItemRepository(Protocol):
    def get_by_sha256(self, sha256: str) -> EvidenceItem | None: ...

    def get(self, item_id: str) -> EvidenceItem | None: ...

    def add(self, item: EvidenceItem) -> tuple[EvidenceItem, bool]:
        """Insert unless an item with the same sha256 exists; return the stored item and whether
        it was new."""
        ...

    def add_many(self, new: Sequence[EvidenceItem]) -> list[tuple[EvidenceItem, bool]]:
        """`add` for each item, in order, at once (the first of two with the same sha256 wins)."""
        ...

    def resolve(self, reference: str) -> EvidenceItem:
        """By id, sha256 (`sha256:` optional) or a unique prefix of either."""
        ...

    def iter_items(self) -> Iterator[EvidenceItem]: ...

    def count(self) -> int: ...

    def add_acquisition(self, acquisition: Acquisition) -> bool:
        """Record unless the same acquisition (Acquisition.key) is already recorded."""
        ...

    def add_acquisitions(self, new: Sequence[Acquisition]) -> list[bool]:
        """`add_acquisition` for each, in order, at once."""
        ...

    def acquisitions(self, item_id: str) -> list[Acquisition]: ...

    def acquisitions_of(self, item_ids: Sequence[str]) -> dict[str, list[Acquisition]]:
        """Acquisitions of many items at once (items without any are absent)."""
        ...

    def get_many(self, item_ids: Sequence[str]) -> dict[str, EvidenceItem]:
        """The items with these ids that exist, by id."""
        ...

    def add_metadata(self, item_id: str, record: MetadataRecord, at: datetime) -> None: ...

    def add_metadata_many(self, records: Sequence[tuple[str, MetadataRecord]], at: datetime) -> None: ...

    def metadata(self, item_id: str) -> list[MetadataRecord]: ...

    def iter_sizes(self) -> Iterator[tuple[str, str, int]]:
        """(id, sha256, size) for every item, cheaply, for verification."""
        ...


class CustodyRepository(Protocol):
    def append(
        self, actor: str, action: str, subject: str | None, details: dict[str, object] | None = None
    ) -> CustodyEntry: ...

    def head(self) -> tuple[int, str] | None: ...

    def deferred(self) -> AbstractContextManager[None]:
        """Within it, appends are written together when it ends (one statement for a batch of
        files' entries); nothing may read the log meanwhile."""
        ...

    def iter_entries(self) -> Iterator[StoredEntry]: ...

    def entries_for(self, subjects: list[str]) -> list[CustodyEntry]: ...

    def checkpoints(self) -> list[StoredCheckpoint]: ...

    def add_checkpoint(self, checkpoint: StoredCheckpoint, key_id: str) -> None: ...


class MetadataReader(Protocol):
    """Reads what a file says about itself; never raises for bad media (failure is data)."""

    def detect_media_type(self, path: Path) -> str: ...

    def extract(self, path: Path, media_type: str) -> MetadataRecord: ...

    def parallel(self) -> AbstractContextManager[None]:
        """Within the block `extract` may run beside the caller's process (a large intake: the
        readers' Python work then no longer competes with recording for one interpreter lock)."""
        ...


class Transaction(Protocol):
    """The repositories one transaction offers. Members are read-only properties so adapters may
    provide their concrete repository types (a feature adds one property here)."""

    @property
    def items(self) -> ItemRepository: ...

    @property
    def custody(self) -> CustodyRepository: ...

    @property
    def captures(self) -> CaptureRepository: ...

    @property
    def posts(self) -> PostRepository: ...

    @property
    def packages(self) -> PackageRepository: ...

    @property
    def incidents(self) -> IncidentRepository: ...

    @property
    def fingerprints(self) -> FingerprintRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def protection(self) -> ProtectionRepository: ...


class UnitOfWork(Protocol):
    """Opens one transaction: commit on success, roll back on an exception. Read-only ones do not
    take the write lock (SQLite), so a long `verify` never blocks an `add`."""

    def __call__(self, read_only: bool = False) -> AbstractContextManager[Transaction]: ...
