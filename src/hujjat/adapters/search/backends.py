"""The two full-text backends: how an analysed query tree becomes an FTS5 MATCH string or a
PostgreSQL tsquery, how terms are stored, and how matches are scored.

Both renderers work only from normalised terms (letters and digits, see processing.text), quote
every term, and the result is always passed as a bound parameter, so no user text ever reaches
SQL or the full-text query syntax unquoted. The trees they accept have been checked by
`domain.search.check_runnable` (NOT only beside something positive), which both engines can run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hujjat.domain.search import And, AnyTerm, Node, Not, Or, Term, TermPhrase


def _group(parts: list[str], operator: str) -> str:
    return parts[0] if len(parts) == 1 else "(" + f" {operator} ".join(parts) + ")"


def render_fts5(node: Node) -> str:
    def term(t: Term) -> str:
        return '"' + t.text.replace('"', '""') + '"' + ("*" if t.prefix else "")

    if isinstance(node, AnyTerm):
        return _group([term(t) for t in node.alternatives], "OR")
    if isinstance(node, TermPhrase):
        return _group([" + ".join(term(t) for t in version) for version in node.versions], "OR")
    if isinstance(node, Or):
        return _group([render_fts5(c) for c in node.children], "OR")
    if isinstance(node, And):
        text = _group([render_fts5(c) for c in node.children if not isinstance(c, Not)], "AND")
        for child in node.children:
            if isinstance(child, Not):
                text = f"({text} NOT {render_fts5(child.child)})"
        return text
    raise ValueError(f"cannot render {type(node).__name__} for FTS5")


def sample_stride(matches: int, sample_size: int) -> int:
    """The smallest prime at least matches / sample_size: one document in `stride` is sampled."""
    stride = math.ceil(matches / max(1, sample_size))
    if stride <= 1:
        return 1
    while any(stride % d == 0 for d in range(2, math.isqrt(stride) + 1)):
        stride += 1
    return stride


def sample_condition(column: str, stride: int) -> sa.ColumnElement[bool]:
    """True for the documents whose id is a multiple of `stride` (a prime we computed, never user
    input): one in `stride`, spread over time and sources. Ids follow insertion (and on SQLite the
    date) with no period, so a prime stride samples evenly; a multiplicative hash of the id made
    the pass over 306,790 matches 10 ms (45%) slower."""
    return sa.literal_column(f"(({column} % {int(stride)}) = 0)", sa.Boolean)


def render_tsquery(node: Node) -> str:
    def term(t: Term) -> str:
        return "'" + t.text.replace("\\", "").replace("'", "''") + "'" + (":*" if t.prefix else "")

    if isinstance(node, AnyTerm):
        return _group([term(t) for t in node.alternatives], "|")
    if isinstance(node, TermPhrase):
        return _group(["(" + " <-> ".join(term(t) for t in version) + ")" for version in node.versions], "|")
    if isinstance(node, Or):
        return _group([render_tsquery(c) for c in node.children], "|")
    if isinstance(node, And):
        parts = [render_tsquery(c) for c in node.children if not isinstance(c, Not)]
        parts += ["!" + render_tsquery(c.child) for c in node.children if isinstance(c, Not)]
        return _group(parts, "&")
    raise ValueError(f"cannot render {type(node).__name__} for tsquery")


MAX_EXPANSION = 32  # a prefix covering more index terms than this stays a prefix
_LAST_CHAR = "\U0010ffff"  # sorts (as UTF-8 bytes, as FTS5 orders terms) after any continuation


class Fts5Backend:
    """SQLite: an FTS5 table whose rowid is search_documents.id; BM25 ranking (lower is better).
    Document ids are date keys (index.date_key), so the FTS5 rowid order is newest-first order."""

    name = "sqlite-fts5"
    date_keyed = True

    def expand(self, conn: sa.Connection, tree: Node) -> Node:
        """The tree with prefix terms replaced by the few index terms they cover (`мигрант*` ->
        мигрант, мигрантов, ...): the same matches, but FTS5 streams an OR of terms, while a
        prefix term is first merged into one list of every match with positions (9.5 ms for
        `мигрант*` at 255,000 documents), again in each statement: the pilot, the sample, BM25's
        IDF. Looked up once per search in the index's vocabulary (fts5vocab, which counts each
        term's documents: about 2 ms for 80,000, 15 ms for 300,000); a prefix covering no term
        matches nothing and is dropped, and so is a phrase version holding one."""
        conn.exec_driver_sql("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, search_fts, row)")
        lookup = sa.text("SELECT term FROM temp.search_vocab WHERE term >= :low AND term < :high LIMIT :n")
        known: dict[Term, list[Term]] = {}

        def covered(term: Term) -> list[Term]:
            if not term.prefix:
                return [term]
            if term not in known:
                found = conn.execute(lookup, {"low": term.text, "high": term.text + _LAST_CHAR, "n": MAX_EXPANSION + 1})
                words = list(found.scalars())
                known[term] = [Term(w, False) for w in words] if len(words) <= MAX_EXPANSION else [term]
            return known[term]

        def versions(version: tuple[Term, ...]) -> list[tuple[Term, ...]]:
            # Kept with its prefixes: as phrases of every combination of covered terms, BM25 (per
            # row and for each phrase's IDF) cost more than the merge saved ("полиция задержала",
            # 24 phrases, 216 -> 273 ms at 1M documents).
            return [] if any(not covered(t) for t in version) else [version]

        def walk(node: Node) -> Node:
            if isinstance(node, AnyTerm):
                terms = tuple(dict.fromkeys(t for alt in node.alternatives for t in covered(alt)))
                return AnyTerm(terms) if terms else node
            if isinstance(node, TermPhrase):
                phrases = tuple(dict.fromkeys(v for version in node.versions for v in versions(version)))
                return TermPhrase(phrases) if phrases else node
            if isinstance(node, And | Or):
                return type(node)(tuple(walk(c) for c in node.children))
            if isinstance(node, Not):
                return Not(walk(node.child))
            return node

        return walk(tree)

    def count(self, conn: sa.Connection, tree: Node) -> int:
        """How many documents the full-text part matches (streamed in C, no ranking: ~0.1 µs a match)."""
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :q"), {"q": render_fts5(tree)}
            ).scalar_one()
        )

    def newest_ids(self, conn: sa.Connection, tree: Node, limit: int) -> list[int]:
        """The ids of the `limit` newest matches (by the second), streamed by FTS5 in rowid order."""
        statement = sa.text("SELECT rowid FROM search_fts WHERE search_fts MATCH :q ORDER BY rowid DESC LIMIT :n")
        return [int(i) for i in conn.execute(statement, {"q": render_fts5(tree), "n": limit}).scalars()]

    def newest(self, tree: Node) -> sa.Subquery:
        """(id) of every match; with ORDER BY id DESC FTS5 streams them newest first and stops at the LIMIT."""
        return (
            sa.select(sa.literal_column("rowid").label("id"))
            .select_from(sa.table("search_fts"))
            .where(sa.literal_column("search_fts").op("MATCH")(sa.bindparam("fts_newest", render_fts5(tree))))
            .subquery("n")
        )

    def write_terms(self, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            conn.execute(sa.text("INSERT INTO search_fts(rowid, terms) VALUES (:id, :terms)"), list(rows))

    def refresh_statistics(self, conn: sa.Connection) -> None:
        """Nothing: the plans (FTS5 first, documents by rowid) do not depend on statistics."""

    def delete_terms(self, conn: sa.Connection, ids: Sequence[int]) -> None:
        if ids:
            conn.execute(sa.text("DELETE FROM search_fts WHERE rowid = :id"), [{"id": i} for i in ids])

    def clear(self, conn: sa.Connection) -> None:
        conn.execute(sa.text("DELETE FROM search_fts"))

    def matches(self, tree: Node, stride: int = 1, scored: bool = True) -> sa.Subquery:
        """(id, score) of every matching document (of about one in `stride`: BM25 is then computed
        for the sampled rows only; not at all unless `scored`); lower scores rank first."""
        score: sa.ColumnElement[Any] = sa.literal_column("bm25(search_fts)" if scored else "NULL")
        select = (
            sa.select(sa.literal_column("rowid").label("id"), score.label("score"))
            .select_from(sa.table("search_fts"))
            .where(sa.literal_column("search_fts").op("MATCH")(sa.bindparam("fts_query", render_fts5(tree))))
        )
        if stride > 1:
            select = select.where(sample_condition("rowid", stride))
        return select.subquery("m")


class PostgresBackend:
    """PostgreSQL: a tsvector column of search_texts (the 'simple' configuration over our own terms, so no second
    stemming) with a GIN index; ranked by ts_rank_cd (higher is better)."""

    name = "postgresql"
    date_keyed = False
    _tsv: sa.ColumnClause[Any] = sa.literal_column("search_texts.tsv")

    def expand(self, conn: sa.Connection, tree: Node) -> Node:
        """As is: the GIN index looks prefixes up itself."""
        return tree

    def _query(self, tree: Node, name: str = "ts_query") -> sa.ColumnElement[Any]:
        return sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), sa.bindparam(name, render_tsquery(tree)))

    def count(self, conn: sa.Connection, tree: Node) -> int:
        statement = sa.select(sa.func.count()).select_from(sa.table("search_texts")).where(
            self._tsv.op("@@")(self._query(tree))
        )
        return int(conn.execute(statement).scalar_one())

    def newest_ids(self, conn: sa.Connection, tree: Node, limit: int) -> list[int]:
        """The ids of the `limit` newest matches (ids are not date keys here: by the date column)."""
        statement = sa.text(
            "SELECT d.id FROM search_documents d JOIN search_texts t ON t.id = d.id "
            "WHERE t.tsv @@ to_tsquery('simple', :q) ORDER BY d.date DESC NULLS LAST, d.id DESC LIMIT :n"
        )
        return [int(i) for i in conn.execute(statement, {"q": render_tsquery(tree), "n": limit}).scalars()]

    def newest(self, tree: Node) -> sa.Subquery:
        return (
            sa.select(sa.literal_column("search_texts.id").label("id"))
            .select_from(sa.table("search_texts"))
            .where(self._tsv.op("@@")(self._query(tree, "ts_newest")))
            .subquery("n")
        )

    def write_terms(self, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            conn.execute(
                sa.text("UPDATE search_texts SET tsv = to_tsvector('simple', :terms) WHERE id = :id"),
                list(rows),
            )

    def refresh_statistics(self, conn: sa.Connection) -> None:
        """ANALYZE the index tables once they have changed by more rows than the planner's
        statistics know of (after a bulk load or reindex): with stale statistics PostgreSQL
        joined 100,000 documents row by row for a query matching none (450 ms instead of 2 ms),
        and autovacuum may be off or not yet round. Self-limiting: about log2(n) times per load."""
        stale = conn.execute(sa.text(
            "SELECT s.n_mod_since_analyze > greatest(c.reltuples, 1000) FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'search_documents'"
        )).scalar()
        if stale:
            conn.execute(sa.text("ANALYZE search_documents, search_texts"))

    def delete_terms(self, conn: sa.Connection, ids: Sequence[int]) -> None:
        """The vector lives in the document row: deleting the row deletes it."""

    def clear(self, conn: sa.Connection) -> None:
        """Nothing outside the document tables."""

    def matches(self, tree: Node, stride: int = 1, scored: bool = True) -> sa.Subquery:
        query = self._query(tree)
        score: sa.ColumnElement[Any] = -sa.func.ts_rank_cd(self._tsv, query) if scored else sa.null()
        select = (
            sa.select(sa.literal_column("search_texts.id").label("id"), score.label("score"))
            .select_from(sa.table("search_texts"))
            .where(self._tsv.op("@@")(query))
        )
        if stride > 1:
            select = select.where(sample_condition("search_texts.id", stride))
        return select.subquery("m")


Backend = Fts5Backend | PostgresBackend


def backend_for(dialect: str) -> Backend:
    return Fts5Backend() if dialect == "sqlite" else PostgresBackend()
