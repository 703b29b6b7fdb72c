"""A blind search index for restricted records on archives that seal fields (an encrypted archive
on PostgreSQL), wrapped around the SQL search index without changing it.

The plain index keeps restricted evidence items and incidents out (`withheld_records`): its
terms, snippets and records would hold their text in plaintext. This wrapper indexes them
instead as (1) one opaque token per distinct normalised term — HMAC-SHA256 under a key derived
from the archive's database key (field_cipher.blind_index_key), first 16 bytes in hex — and (2)
the fields a hit shows (title, text, record, facets), sealed with the field cipher. A query's
words are analysed exactly as for the plain index and hashed the same way; the query tree is
evaluated over each candidate's tokens. Without the key the tables give no word, only which
restricted records share an (unknown) term and how many distinct terms each has.

What this cannot do, because a token reveals nothing of its term: prefix matching (a restricted
record matches whole words only, as stemmed: `raid` finds "raids", `rai*` finds nothing and
`raid*` only the word itself), word order (a phrase matches records holding all its words, anywhere), relevance scores, and facet
filters other than kind and dates (a query filtered by place, source, state, type of incident or
language returns no restricted record). Restricted matches come first on the result pages,
newest first, then the plain index's hits; the kind facet and the total count them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.field_cipher import FieldCipher, cipher_of
from hujjat.adapters.db.protection_tables import blind_documents as bdocs
from hujjat.adapters.db.protection_tables import blind_terms as bterms
from hujjat.adapters.search.sources import indexed_ids, withheld_records
from hujjat.domain.search import (
    KINDS,
    And,
    Node,
    Not,
    Or,
    Phrase,
    Term,
    Word,
    WordAnalyser,
    analyse_tree,
    check_runnable,
    parse_query,
    positive_terms,
)
from hujjat.ports.search import (
    SearchDocument,
    SearchFilters,
    SearchHit,
    SearchIndex,
    SearchResults,
    TextAnalyzer,
)

LABEL = "protected_search_documents.sealed"
BATCH = 500


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class BlindTokens:
    """Terms to opaque tokens, and a parsed query evaluated over one record's tokens.

    The query is evaluated before the plain index's analysis, which turns words into prefix
    terms (a prefix cannot be hashed): here every word is stemmed by each analysis strategy and
    matches when a record holds any of those whole terms."""

    def __init__(self, key: bytes, analyse: WordAnalyser) -> None:
        self.key = key
        self.analyse = analyse

    def token(self, term: str) -> str:
        return hmac.new(self.key, term.encode("utf-8"), hashlib.sha256).digest()[:16].hex()

    def _word(self, text: str) -> list[set[str]]:
        """A word's tokens: one set of alternatives (tokens) per sub-word it splits into."""
        return [{self.token(alt) for alt in alts} for alts in self.analyse(text, False)]

    def tokens_of(self, node: Node) -> set[str]:
        if isinstance(node, Word):
            return set().union(*self._word(node.text))
        if isinstance(node, Phrase):
            return set().union(*(self.tokens_of(Word(w)) for w in node.words))
        if isinstance(node, And | Or):
            return set().union(*(self.tokens_of(c) for c in node.children))
        if isinstance(node, Not):
            return self.tokens_of(node.child)
        return set()

    def matches(self, node: Node, tokens: set[str]) -> bool:
        if isinstance(node, Word):
            parts = self._word(node.text)
            return bool(parts) and all(part & tokens for part in parts)
        if isinstance(node, Phrase):  # all its words, in any order (positions are not stored)
            words = [w for w in node.words if self._word(w)]
            return bool(words) and all(self.matches(Word(w), tokens) for w in words)
        if isinstance(node, And):
            return all(self.matches(c, tokens) for c in node.children)
        if isinstance(node, Or):
            return any(self.matches(c, tokens) for c in node.children)
        if isinstance(node, Not):
            return not self.matches(node.child, tokens)
        return False


class BlindIndexedSearch:
    """SearchIndex: the plain SQL index plus the blind index of the records it withholds."""

    def __init__(self, inner: SearchIndex, engine: sa.Engine, analyzer: TextAnalyzer, key: bytes) -> None:
        self.inner = inner
        self.engine = engine
        self.analyzer = analyzer
        self.tokens = BlindTokens(key, analyzer.query_terms)

    # -- writing -------------------------------------------------------------------------------

    def upsert(self, document: SearchDocument) -> None:
        self.upsert_many([document])

    def upsert_many(self, documents: Sequence[SearchDocument]) -> None:
        self.inner.upsert_many(documents)  # removes every plain entry of the batch, withholds restricted
        for start in range(0, len(documents), BATCH):
            batch = documents[start : start + BATCH]
            withheld = withheld_records(self.engine, [(d.kind, d.record_id) for d in batch])
            with self.engine.begin() as conn:
                self._remove(conn, [(d.kind, d.record_id) for d in batch])
                fields = cipher_of(conn)
                for doc in batch:
                    if (doc.kind, doc.record_id) in withheld:
                        self._write(conn, fields, doc)

    def _write(self, conn: sa.Connection, fields: FieldCipher, doc: SearchDocument) -> None:
        language = (doc.language or self.analyzer.detect_language(doc.text)).lower()[:8]
        terms = set(self.analyzer.index_terms(f"{doc.title or ''}\n{doc.text}", language).split())
        shown = {
            "title": doc.title, "text": doc.text, "language": language, "source": doc.source,
            "place": doc.place, "state": doc.state, "category": doc.category, "record": dict(doc.record),
        }
        doc_id = conn.execute(
            bdocs.insert().returning(bdocs.c.id),
            {"kind": doc.kind, "record_id": doc.record_id, "date": _aware(doc.date),
             "sealed": fields.seal_json(shown, LABEL)["sealed"]},
        ).scalar_one()
        tokens = sorted({self.tokens.token(t) for t in terms})
        if tokens:
            conn.execute(bterms.insert(), [{"token": t, "doc_id": doc_id} for t in tokens])

    def _remove(self, conn: sa.Connection, keys: list[tuple[str, str]]) -> None:
        by_kind: dict[str, list[str]] = {}
        for kind, record_id in keys:
            by_kind.setdefault(kind, []).append(record_id)
        for kind, ids in by_kind.items():
            found = list(conn.execute(
                sa.select(bdocs.c.id).where(bdocs.c.kind == kind, bdocs.c.record_id.in_(ids))
            ).scalars())
            if found:
                conn.execute(bterms.delete().where(bterms.c.doc_id.in_(found)))
                conn.execute(bdocs.delete().where(bdocs.c.id.in_(found)))

    def delete(self, kind: str, record_id: str) -> bool:
        removed = self.inner.delete(kind, record_id)
        with self.engine.begin() as conn:
            self._remove(conn, [(kind, record_id)])
        return removed

    def clear(self) -> None:
        self.inner.clear()
        with self.engine.begin() as conn:
            conn.execute(bterms.delete())
            conn.execute(bdocs.delete())

    def count(self) -> int:
        with self.engine.connect().execution_options(hujjat_read_only=True) as conn:
            blind = int(conn.execute(sa.select(sa.func.count()).select_from(bdocs)).scalar_one())
        return self.inner.count() + blind

    def indexed(self, kind: str, record_ids: Sequence[str]) -> set[str]:
        """Restricted records are indexed here, the rest in the inner index."""
        with self.engine.connect().execution_options(hujjat_read_only=True) as conn:
            blind = indexed_ids(conn, bdocs, kind, record_ids)
        return blind | self.inner.indexed(kind, record_ids)

    def gather(self, kind: str | None = None, record_ids: Sequence[str] | None = None) -> Iterator[SearchDocument]:
        return self.inner.gather(kind, record_ids)

    # -- searching ----------------------------------------------------------------------------

    def search(
        self, query: str, filters: SearchFilters | None = None, order: str = "relevance",
        limit: int = 20, offset: int = 0,
    ) -> SearchResults:
        filters = filters or SearchFilters()
        matched, terms = self._blind_matches(query, filters)
        if not matched:
            return self.inner.search(query, filters, order, limit, offset)
        page = matched[offset : offset + limit]
        wanted = limit - len(page)
        plain = self.inner.search(query, filters, order, max(1, wanted), max(0, offset - len(matched)))
        hits = [self._hit(row, terms) for row in page] + (plain.hits[:wanted] if wanted > 0 else [])
        facets = {name: list(values) for name, values in plain.facets.items()}
        kinds = dict(facets.get("kind", []))
        for row in matched:
            kinds[row.kind] = kinds.get(row.kind, 0) + 1
        facets["kind"] = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        return SearchResults(plain.total + len(matched), hits, facets, plain.order, plain.approximate)

    def _blind_matches(self, query: str, filters: SearchFilters) -> tuple[list[_Opened], list[Term]]:
        """Every blind document the query matches (newest first); none when a filter asks for a
        field the blind index cannot see."""
        parsed = parse_query(query)
        if parsed.tree is None:
            return [], []
        include = {k: list(v) for k, v in filters.include.items() if v}
        exclude = {k: list(v) for k, v in filters.exclude.items() if v}
        for target, extra in ((include, parsed.include), (exclude, parsed.exclude)):
            for name, values in extra.items():
                target.setdefault(name, []).extend(values)
        kinds_in: set[str] | None = None
        kinds_out: set[str] = set()
        for name, values in include.items():
            if name not in ("kind", "type") or any(v.lower() not in KINDS for v in values):
                return [], []
            kinds_in = {v.lower() for v in values} & (kinds_in if kinds_in is not None else set(KINDS))
        for name, values in exclude.items():
            if name not in ("kind", "type") or any(v.lower() not in KINDS for v in values):
                return [], []
            kinds_out |= {v.lower() for v in values}
        tree = analyse_tree(parsed.tree, self.analyzer.query_terms)
        if tree is None:
            return [], []
        check_runnable(tree)
        tokens = sorted(self.tokens.tokens_of(parsed.tree))
        conditions: list[sa.ColumnElement[bool]] = []
        if kinds_in is not None:
            conditions.append(bdocs.c.kind.in_(sorted(kinds_in)))
        if kinds_out:
            conditions.append(bdocs.c.kind.not_in(sorted(kinds_out)))
        if filters.date_from:
            conditions.append(bdocs.c.date >= filters.date_from)
        if filters.date_before:
            conditions.append(bdocs.c.date < filters.date_before)
        held: dict[int, set[str]] = {}
        with self.engine.connect().execution_options(hujjat_read_only=True) as conn:
            for start in range(0, len(tokens), 500):
                found_tokens = conn.execute(
                    sa.select(bterms.c.doc_id, bterms.c.token).where(bterms.c.token.in_(tokens[start : start + 500]))
                )
                for doc_id, token in found_tokens:
                    held.setdefault(int(doc_id), set()).add(token)
            candidates = [doc_id for doc_id, found in held.items() if self.tokens.matches(parsed.tree, found)]
            if not candidates:
                return [], []
            rows = conn.execute(
                sa.select(bdocs).where(bdocs.c.id.in_(candidates), *conditions)
                .order_by(bdocs.c.date.desc().nulls_last(), bdocs.c.id.desc())
            ).all()
            fields = cipher_of(conn)
            return [_Opened(row, fields) for row in rows], positive_terms(tree)

    def _hit(self, row: _Opened, terms: list[Term]) -> SearchHit:
        shown = row.shown
        language = str(shown.get("language") or "und")
        return SearchHit(
            kind=row.kind, record_id=row.record_id, title=shown.get("title"),
            snippet=self.analyzer.snippet(str(shown.get("text") or ""), language, terms),
            date=_aware(row.date), language=language, source=shown.get("source"), place=shown.get("place"),
            state=shown.get("state"), category=shown.get("category"), record=dict(shown.get("record") or {}),
            score=None,
        )


class _Opened:
    """A matched blind document with its sealed fields opened (only for hits shown)."""

    def __init__(self, row: Any, fields: FieldCipher) -> None:
        self.kind = str(row.kind)
        self.record_id = str(row.record_id)
        self.date = row.date
        self._sealed = str(row.sealed)
        self._fields = fields

    @property
    def shown(self) -> dict[str, Any]:
        opened = self._fields.open_json({"sealed": self._sealed}, LABEL)
        return opened if isinstance(opened, dict) else {}


def protect_search(inner: SearchIndex, engine: sa.Engine, analyzer: TextAnalyzer, key: bytes | None) -> SearchIndex:
    """The search index an archive uses: the plain one, wrapped with the blind index of
    restricted records when the archive seals fields (`key` from field_cipher.blind_index_key)."""
    return inner if key is None else BlindIndexedSearch(inner, engine, analyzer, key)
