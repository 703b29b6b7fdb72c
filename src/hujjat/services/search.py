"""Search use cases: keeping the index in step with the archive, rebuilding it, and searching.

Features call `index_record(ports, SearchDocument(...))` after they create or edit a record and
`remove_record(ports, kind, id)` after they delete one (docs/search.md); evidence intake calls
`index_item`. All of them do nothing when the archive has no search index configured, and the
index is derived data: `reindex` rebuilds it from the archive at any time, so nothing here is a
custody event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from hujjat.domain.errors import ArchiveError, HujjatError, UsageError
from hujjat.domain.evidence import Acquisition, EvidenceItem
from hujjat.ports.search import SearchDocument, SearchFilters, SearchIndex, SearchResults
from hujjat.services.context import ArchivePorts

TEXT_MEDIA = ("text/plain", "text/markdown", "text/csv")
MAX_TEXT_BYTES = 1_000_000
REINDEX_BATCH = 5000  # documents per upsert_many (its write transaction)

ReindexProgress = Callable[[int, int | None], None]


def _index(ports: ArchivePorts) -> SearchIndex | None:
    return ports.search


def require_index(ports: ArchivePorts) -> SearchIndex:
    index = _index(ports)
    if index is None:
        raise ArchiveError("this archive has no search index configured")
    return index


def index_record(ports: ArchivePorts, document: SearchDocument) -> None:
    """Add or replace one record in the index (call after the record's transaction commits)."""
    index = _index(ports)
    if index is not None:
        index.upsert(document)


def remove_record(ports: ArchivePorts, kind: str, record_id: str) -> None:
    """Take a deleted record out of the index."""
    index = _index(ports)
    if index is not None:
        index.delete(kind, record_id)


def refresh_records(ports: ArchivePorts, kind: str, record_ids: Sequence[str]) -> int:
    """THE call for features: after records of `kind` (post, incident, capture, evidence) were
    created, edited or deleted and the transaction committed, re-read them from their tables into
    the index (records no longer there are removed). Returns how many are indexed."""
    index = _index(ports)
    if index is None or not record_ids:
        return 0
    if kind == "evidence":
        documents = evidence_documents(ports, record_ids)
    elif kind in ("post", "incident", "capture"):
        documents = list(index.gather(kind, list(record_ids)))
    else:
        raise UsageError(f"unknown kind of record to index: {kind!r}")
    index.upsert_many(documents)
    for missing in set(record_ids) - {d.record_id for d in documents}:
        index.delete(kind, missing)
    return len(documents)


def refresh_evidence(
    ports: ArchivePorts, created: Sequence[tuple[EvidenceItem, Sequence[Acquisition]]], others: Sequence[str]
) -> int:
    """`refresh_records(ports, "evidence", ...)` for an intake batch that just committed: the
    `created` items were inserted by it with every acquisition they have, so their documents are
    built from those objects instead of read back (the read was a fifth of the recording thread's
    time); the items of `others` (known before, newly acquired) are read. Returns how many are indexed."""
    index = _index(ports)
    if index is None or not (created or others):
        return 0
    documents = [_evidence_document(ports, item, sorted(acquired, key=lambda a: a.id)) for item, acquired in created]
    documents += evidence_documents(ports, others) if others else []
    index.upsert_many(documents)
    return len(documents)


def _item_text(ports: ArchivePorts, sha256: str) -> str:
    """The start of a text item; empty when the bytes cannot be read (the index is derived data:
    a missing object is for `hujjat verify` to report, not a reason to fail an intake)."""
    try:
        with ports.store.open(sha256) as handle:
            data = handle.read(MAX_TEXT_BYTES)
    except (OSError, HujjatError):
        return ""
    return data.decode("utf-8", errors="replace")


def evidence_document(ports: ArchivePorts, item_id: str) -> SearchDocument | None:
    """What the index holds for an evidence item: its file names, sources and notes, and the
    text itself for plain-text items."""
    found = evidence_documents(ports, [item_id])
    return found[0] if found else None


def evidence_documents(ports: ArchivePorts, item_ids: Sequence[str]) -> list[SearchDocument]:
    """The documents of many items, read in one transaction (an intake batch indexes dozens)."""
    with ports.uow(read_only=True) as tx:
        found = tx.items.get_many(item_ids)
        acquired = tx.items.acquisitions_of(list(found))
    return [_evidence_document(ports, found[i], acquired.get(i, [])) for i in dict.fromkeys(item_ids) if i in found]


def _evidence_document(ports: ArchivePorts, item: EvidenceItem, acquisitions: Sequence[Acquisition]) -> SearchDocument:
    names = sorted({a.original_name for a in acquisitions if a.original_name})
    notes = sorted({a.note for a in acquisitions if a.note})
    sources = [a.source for a in acquisitions if a.source]
    parts = [*names, *notes]
    if item.media_type.split(";")[0] in TEXT_MEDIA:
        parts.append(_item_text(ports, item.sha256))
    record: dict[str, object] = {
        "id": item.id,
        "sha256": item.sha256,
        "media_type": item.media_type,
        "size": item.size,
        "names": names,
        "notes": notes,
    }
    return SearchDocument(
        "evidence",
        item.id,
        "\n".join(parts),
        title=names[0] if names else None,
        date=item.created_at,
        source=sources[0] if sources else None,
        category=item.media_type.split("/")[0],
        record=record,
    )


def index_item(ports: ArchivePorts, item_id: str) -> None:
    """(Re)index an evidence item after an acquisition (names and notes accumulate)."""
    if _index(ports) is None:
        return
    document = evidence_document(ports, item_id)
    if document is not None:
        index_record(ports, document)


def _evidence_documents(ports: ArchivePorts) -> Iterator[SearchDocument]:
    with ports.uow(read_only=True) as tx:
        ids = [item.id for item in tx.items.iter_items()]
    for item_id in ids:
        document = evidence_document(ports, item_id)
        if document is not None:
            yield document


def reindex(ports: ArchivePorts, progress: ReindexProgress | None = None) -> int:
    """Rebuild the index from scratch from every searchable table; return the documents indexed.
    `progress(done, total)` is called after each batch (total None until it is known)."""
    index = require_index(ports)
    with ports.uow(read_only=True) as tx:
        total = tx.items.count()
    index.clear()
    done = 0
    batch: list[SearchDocument] = []

    def flush() -> None:
        nonlocal done
        index.upsert_many(batch)
        done += len(batch)
        batch.clear()
        if progress:
            progress(done, None)

    for source in (_evidence_documents(ports), index.gather()):
        for document in source:
            batch.append(document)
            if len(batch) >= REINDEX_BATCH:
                flush()
    flush()
    if progress:
        progress(done, max(done, total))
    return done


def search(
    ports: ArchivePorts,
    query: str,
    filters: SearchFilters | None = None,
    order: str = "relevance",
    limit: int = 20,
    offset: int = 0,
) -> SearchResults:
    """Run a query (see domain.search for the language); raises QueryError if it cannot run."""
    return require_index(ports).search(query, filters, order, limit, offset)
