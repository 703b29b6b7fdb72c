"""SQL repositories for items and the custody log, and the unit of work that scopes them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.accounts_repository import SqlAccountRepository
from hujjat.adapters.db.bulk import insert_absent_many, insert_many
from hujjat.adapters.db.capture_repository import SqlCaptureRepository
from hujjat.adapters.db.dedup_repository import SqlFingerprintRepository
from hujjat.adapters.db.field_cipher import CUSTODY_LABEL, cipher_of
from hujjat.adapters.db.incidents_repository import SqlIncidentRepository
from hujjat.adapters.db.packages_repository import SqlPackageRepository
from hujjat.adapters.db.posts_repository import SqlPostRepository
from hujjat.adapters.db.protection_repository import SqlProtectionRepository
from hujjat.adapters.db.tables import (
    acquisitions,
    custody_checkpoints,
    custody_entries,
    custody_head,
    item_metadata,
    items,
)
from hujjat.domain.canonical import canonical_bytes, sha256_hex
from hujjat.domain.custody import Checkpoint, CustodyEntry, StoredCheckpoint, StoredEntry, next_entry
from hujjat.domain.errors import Ambiguous, NotFound, UsageError
from hujjat.domain.evidence import Acquisition, EvidenceItem, MetadataRecord, MetadataStatus, Sensitivity
from hujjat.domain.ids import ULID_RE, normalise_digest
from hujjat.ports import Clock

MIN_PREFIX = 4
IN_CHUNK = 500  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits
METADATA_LABEL = "item_metadata.data"  # EXIF, GPS, ...: sealed on encrypted server databases


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def insert_absent(conn: sa.Connection, table: sa.Table, unique: list[str], rows: list[dict[str, Any]]) -> set[Any]:
    """INSERT ... ON CONFLICT DO NOTHING of many rows in multi-row statements (bulk.insert_absent_many),
    on SQLite and PostgreSQL: safe against concurrent writers (PostgreSQL waits for the other
    transaction, then skips). Returns the values of `unique[0]` of the rows that went in (RETURNING
    says exactly which: psycopg's rowcount is -1 here). Rows must not repeat a key among themselves
    (callers keep the first)."""
    if conn.dialect.name not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"unsupported database dialect {conn.dialect.name}")
    return set(insert_absent_many(conn, table, unique, unique[0], rows))


def _item(row: Any) -> EvidenceItem:
    return EvidenceItem(
        id=row.id,
        sha256=row.sha256,
        size=row.size,
        media_type=row.media_type,
        created_at=_aware(row.created_at) or datetime.now(UTC),
        sensitivity=Sensitivity(row.sensitivity),
    )


class SqlItemRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get_by_sha256(self, sha256: str) -> EvidenceItem | None:
        row = self.conn.execute(sa.select(items).where(items.c.sha256 == sha256)).first()
        return _item(row) if row else None

    def get(self, item_id: str) -> EvidenceItem | None:
        row = self.conn.execute(sa.select(items).where(items.c.id == item_id)).first()
        return _item(row) if row else None

    def add(self, item: EvidenceItem) -> tuple[EvidenceItem, bool]:
        """Insert unless these bytes are an item already (then that item, False)."""
        return self.add_many([item])[0]

    def add_many(self, new: Sequence[EvidenceItem]) -> list[tuple[EvidenceItem, bool]]:
        """`add` for each item, in one insert (and one read of the items whose content was known
        or came twice): an intake batch records up to 64 files, and a statement per file was most
        of the recording thread's time."""
        first = {item.sha256: item for item in reversed(new)}  # the first item of each content
        inserted = insert_absent(
            self.conn,
            items,
            ["sha256"],
            [
                {
                    "id": item.id,
                    "sha256": item.sha256,
                    "size": item.size,
                    "media_type": item.media_type,
                    "created_at": item.created_at,
                    "sensitivity": item.sensitivity.value,
                }
                for item in new
                if first[item.sha256] is item
            ],
        )
        known = self._by_sha256([sha for sha in first if sha not in inserted])  # or another writer's, a moment ago
        stored = {sha: item for sha, item in first.items() if sha in inserted} | known
        results: list[tuple[EvidenceItem, bool]] = []
        for item in new:
            created = item.sha256 in inserted and first[item.sha256] is item
            results.append((item if created else stored[item.sha256], created))
        return results

    def _by_sha256(self, digests: Sequence[str]) -> dict[str, EvidenceItem]:
        return self._items_by(items.c.sha256, digests)

    def _items_by(self, column: sa.Column[str], keys: Sequence[str]) -> dict[str, EvidenceItem]:
        """Items whose `column` is one of `keys`, by that value, read IN_CHUNK keys at a time."""
        found: dict[str, EvidenceItem] = {}
        for start in range(0, len(keys), IN_CHUNK):
            part = list(keys[start : start + IN_CHUNK])
            rows = self.conn.execute(sa.select(items).where(column.in_(part)))
            found.update((getattr(row, column.key), _item(row)) for row in rows)
        return found

    def resolve(self, reference: str) -> EvidenceItem:
        ref = reference.strip()
        if not ref:
            raise UsageError("an item reference is empty")
        digest = normalise_digest(ref)
        found = self.get(ref.upper()) or self.get_by_sha256(digest)
        if found is not None:
            return found
        if len(ref) < MIN_PREFIX:
            raise UsageError(f"item reference {ref!r} is too short: give at least {MIN_PREFIX} characters")
        conditions = []
        if all(c in "0123456789abcdef" for c in digest):
            conditions.append(items.c.sha256.like(digest + "%"))
        if ULID_RE.match(ref.upper().ljust(26, "0")):
            conditions.append(items.c.id.like(ref.upper() + "%"))
        if not conditions:
            raise NotFound(f"no item matches {ref!r}")
        rows = self.conn.execute(sa.select(items).where(sa.or_(*conditions)).limit(2)).all()
        if not rows:
            raise NotFound(f"no item matches {ref!r}")
        if len(rows) > 1:
            raise Ambiguous(f"{ref!r} matches more than one item: give more characters")
        return _item(rows[0])

    def iter_items(self) -> Iterator[EvidenceItem]:
        result = self.conn.execute(sa.select(items).order_by(items.c.id), execution_options={"yield_per": 1000})
        for row in result:
            yield _item(row)

    def count(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(items)).scalar_one())

    def add_acquisition(self, acquisition: Acquisition) -> bool:
        return self.add_acquisitions([acquisition])[0]

    def add_acquisitions(self, new: Sequence[Acquisition]) -> list[bool]:
        """`add_acquisition` for each, in one insert: whether each was recorded (the same
        acquisition twice in `new` is recorded once, the first time)."""
        keys = [
            sha256_hex(canonical_bytes([str(part) if part is not None else None for part in acquisition.key()]))
            for acquisition in new
        ]
        first = {key: index for index, key in reversed(list(enumerate(keys)))}
        seal = cipher_of(self.conn).seal
        inserted = insert_absent(
            self.conn,
            acquisitions,
            ["dedup_key"],
            [
                {
                    "id": acquisition.id,
                    "item_id": acquisition.item_id,
                    "acquired_at": acquisition.acquired_at,
                    "actor": acquisition.actor,
                    "source_kind": acquisition.source_kind,
                    "source": acquisition.source,
                    "path": acquisition.path,
                    "original_name": acquisition.original_name,
                    "original_mtime": acquisition.original_mtime,
                    "note": seal(acquisition.note, "acquisitions.note"),
                    "dedup_key": key,
                }
                for index, (acquisition, key) in enumerate(zip(new, keys, strict=True))
                if first[key] == index
            ],
        )
        return [key in inserted and first[key] == index for index, key in enumerate(keys)]

    def acquisitions(self, item_id: str) -> list[Acquisition]:
        return self.acquisitions_of([item_id]).get(item_id, [])

    def acquisitions_of(self, item_ids: Sequence[str]) -> dict[str, list[Acquisition]]:
        """Every acquisition of each item, oldest first, in one query per 500 items."""
        found: dict[str, list[Acquisition]] = {}
        fields = cipher_of(self.conn)
        for start in range(0, len(item_ids), IN_CHUNK):
            part = list(item_ids[start : start + IN_CHUNK])
            query = sa.select(acquisitions).where(acquisitions.c.item_id.in_(part)).order_by(acquisitions.c.id)
            for r in self.conn.execute(query):
                found.setdefault(r.item_id, []).append(
                    Acquisition(
                        id=r.id,
                        item_id=r.item_id,
                        acquired_at=_aware(r.acquired_at) or datetime.now(UTC),
                        actor=r.actor,
                        source_kind=r.source_kind,
                        source=r.source,
                        path=r.path,
                        original_name=r.original_name,
                        original_mtime=_aware(r.original_mtime),
                        note=fields.open_(r.note, "acquisitions.note"),
                    )
                )
        return found

    def get_many(self, item_ids: Sequence[str]) -> dict[str, EvidenceItem]:
        return self._items_by(items.c.id, item_ids)

    def add_metadata(self, item_id: str, record: MetadataRecord, at: datetime) -> None:
        self.add_metadata_many([(item_id, record)], at)

    def add_metadata_many(self, records: Sequence[tuple[str, MetadataRecord]], at: datetime) -> None:
        """Store each (item id, record), in one positional executemany (bulk.insert_many)."""
        if not records:
            return
        seal_json = cipher_of(self.conn).seal_json
        insert_many(
            self.conn,
            item_metadata,
            [
                {
                    "item_id": item_id,
                    "extractor": record.extractor,
                    "version": record.version,
                    "status": record.status.value,
                    "error": record.error,
                    "data": seal_json(record.data, METADATA_LABEL),
                    "extracted_at": at,
                }
                for item_id, record in records
            ],
        )

    def metadata(self, item_id: str) -> list[MetadataRecord]:
        rows = self.conn.execute(
            sa.select(item_metadata).where(item_metadata.c.item_id == item_id).order_by(item_metadata.c.id)
        ).all()
        fields = cipher_of(self.conn)
        return [
            MetadataRecord(
                extractor=r.extractor,
                version=r.version,
                status=MetadataStatus(r.status),
                data=fields.open_json(r.data, METADATA_LABEL),
                error=r.error,
            )
            for r in rows
        ]

    def iter_sizes(self) -> Iterator[tuple[str, str, int]]:
        query = sa.select(items.c.id, items.c.sha256, items.c.size)
        for item_id, sha, size in self.conn.execute(query, execution_options={"yield_per": 5000}):
            yield item_id, sha, int(size)


# The custody log's statements, built once: every page that shows a restricted record appends an
# entry, and building these three per append cost about as much as running them.
_HEAD_FOR_UPDATE = sa.select(custody_head.c.seq, custody_head.c.hash).where(custody_head.c.id == 1).with_for_update()
_INSERT_ENTRY = custody_entries.insert()
_MOVE_HEAD = custody_head.update().where(custody_head.c.id == 1).values(
    seq=sa.bindparam("head_seq"), hash=sa.bindparam("head_hash"))


class SqlCustodyRepository:
    """The custody log of one transaction.

    The head row is read (and locked) once per transaction and written once, at its end
    (`flush`, called by SqlUnitOfWork before commit): a transaction recording a batch of files
    appends hundreds of entries, and reading and rewriting the head for each took two of every
    three statements. Nothing else can move the head meanwhile: every write transaction holds
    its lock (BEGIN IMMEDIATE on SQLite, the head row's FOR UPDATE lock on PostgreSQL)."""

    def __init__(self, conn: sa.Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock
        self._head: tuple[int, str] | None = None
        self._head_read = False
        self._head_row = False  # whether the head row exists in the database
        self._dirty = False
        self._pending: list[dict[str, object]] | None = None  # entry rows held back by deferred()

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold appended entries back and insert them with one executemany at the end (an intake
        batch appends three per file). Only for code that does not read the log meanwhile."""
        if self._pending is not None:  # already deferring: the outer block writes
            yield
            return
        self._pending = []
        try:
            yield
            if self._pending:
                insert_many(self.conn, custody_entries, self._pending)
        finally:
            self._pending = None

    def head(self) -> tuple[int, str] | None:
        if self._head_read:
            return self._head
        row = self.conn.execute(sa.select(custody_head.c.seq, custody_head.c.hash)).first()
        return (int(row.seq), row.hash) if row else None

    def _locked_head(self) -> tuple[int, str] | None:
        if not self._head_read:
            row = self.conn.execute(_HEAD_FOR_UPDATE).first()
            self._head = (int(row.seq), row.hash) if row else None
            self._head_row = row is not None
            self._head_read = True
        return self._head

    def append(
        self, actor: str, action: str, subject: str | None, details: dict[str, object] | None = None
    ) -> CustodyEntry:
        entry = next_entry(
            self._locked_head(), moment=self.clock.now(), actor=actor, action=action, subject=subject, details=details
        )
        body = entry.encode()
        digest = sha256_hex(body)
        row = {
            "seq": entry.seq,
            "hash": digest,
            "action": action,
            "subject": subject,
            "body": cipher_of(self.conn).seal(body.decode("utf-8"), CUSTODY_LABEL),
        }
        if self._pending is not None:
            self._pending.append(row)
        else:
            self.conn.execute(_INSERT_ENTRY, row)
        self._head, self._dirty = (entry.seq, digest), True
        return entry

    def flush(self) -> None:
        """Write the head the appends of this transaction moved (once)."""
        if not self._dirty or self._head is None:
            return
        seq, digest = self._head
        if self._head_row:
            self.conn.execute(_MOVE_HEAD, {"head_seq": seq, "head_hash": digest})
        else:
            self.conn.execute(custody_head.insert().values(id=1, seq=seq, hash=digest))
            self._head_row = True
        self._dirty = False

    def iter_entries(self) -> Iterator[StoredEntry]:
        query = sa.select(custody_entries.c.seq, custody_entries.c.hash, custody_entries.c.body).order_by(
            custody_entries.c.seq
        )
        fields = cipher_of(self.conn)
        for seq, digest, body in self.conn.execute(query, execution_options={"yield_per": 5000}):
            yield StoredEntry(int(seq), digest, (fields.open_(body, CUSTODY_LABEL) or "").encode("utf-8"))

    def entries_for(self, subjects: list[str]) -> list[CustodyEntry]:
        if not subjects:
            return []
        query = (
            sa.select(custody_entries.c.body)
            .where(custody_entries.c.subject.in_(subjects))
            .order_by(custody_entries.c.seq)
        )
        fields = cipher_of(self.conn)
        return [CustodyEntry.decode(fields.open_(body, CUSTODY_LABEL) or "") for (body,) in self.conn.execute(query)]

    def checkpoints(self) -> list[StoredCheckpoint]:
        rows = self.conn.execute(sa.select(custody_checkpoints).order_by(custody_checkpoints.c.seq)).all()
        return [
            StoredCheckpoint(Checkpoint(r.archive, int(r.seq), r.head, r.time), bytes(r.signature))
            for r in rows
        ]

    def add_checkpoint(self, checkpoint: StoredCheckpoint, key_id: str) -> None:
        cp = checkpoint.checkpoint
        exists = self.conn.execute(
            sa.select(custody_checkpoints.c.seq).where(custody_checkpoints.c.seq == cp.seq)
        ).first()
        if exists:
            return
        self.conn.execute(
            custody_checkpoints.insert().values(
                seq=cp.seq,
                head=cp.head,
                time=cp.time,
                archive=cp.archive,
                key_id=key_id,
                signature=checkpoint.signature,
            )
        )


class SqlTransaction:
    def __init__(self, conn: sa.Connection, clock: Clock) -> None:
        self.conn = conn
        self.items = SqlItemRepository(conn)
        self.custody = SqlCustodyRepository(conn, clock)
        self.captures = SqlCaptureRepository(conn)
        self.posts = SqlPostRepository(conn)
        self.packages = SqlPackageRepository(conn)
        self.incidents = SqlIncidentRepository(conn)
        self.fingerprints = SqlFingerprintRepository(conn)
        self.accounts = SqlAccountRepository(conn)
        self.protection = SqlProtectionRepository(conn)


class SqlUnitOfWork:
    """Callable that opens one transaction: commit on success, roll back on any exception.

    Every write transaction takes the custody head's row lock first. Writers almost all append to
    the chain; taking that lock before any other row lock gives all of them one lock order, so two
    writers inserting the same content can never deadlock (PostgreSQL). SQLite's BEGIN IMMEDIATE
    already serialises writers.
    """

    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    @contextmanager
    def __call__(self, read_only: bool = False) -> Iterator[SqlTransaction]:
        with self.engine.connect() as conn:
            if read_only:
                conn = conn.execution_options(hujjat_read_only=True)
            with conn.begin():
                if not read_only and conn.dialect.name == "postgresql":
                    conn.execute(sa.select(custody_head.c.id).where(custody_head.c.id == 1).with_for_update())
                tx = SqlTransaction(conn, self.clock)
                yield tx
                tx.custody.flush()
