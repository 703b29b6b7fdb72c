"""The two full-text backends: how an analysed query tree becomes an FTS5 MATCH string or a
PostgreSQL tsquery, how terms are stored, and how matches are scored.

Both renderers work only from normalised terms (letters and digits, see processing.text), quote
every term, and the result is always passed as a bound parameter, so no user text ever reaches
SQL or the full-text query syntax unquoted. The trees they accept have been checked by
`domain.search.check_runnable` (NOT only beside something positive), which both engines can run.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
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


def phrases_of(node: Node) -> list[tuple[Term, ...]]:
    """The phrases of the full-text expression `node` (a term is a phrase of one), as BM25
    counts them: every alternative and phrase version, those under NOT included."""
    if isinstance(node, AnyTerm):
        return [(t,) for t in node.alternatives]
    if isinstance(node, TermPhrase):
        return list(node.versions)
    if isinstance(node, And | Or):
        return [p for c in node.children for p in phrases_of(c)]
    if isinstance(node, Not):
        return phrases_of(node.child)
    return []


BM25_K1, BM25_B = 1.2, 0.75  # FTS5's bm25() constants


def _occurrence_pattern(phrase: tuple[Term, ...]) -> re.Pattern[str]:
    """Where a term, a prefix term or a phrase of several terms starts in a document's terms (the stored,
    space-separated words): one regular expression, run in C. It starts with the first term's
    letters, which the engine finds by a fast literal search, then checks that they start a word
    (the look-behind) and that the rest follows (the look-ahead, so that every start counts, as
    FTS5 counts a phrase's instances). A loop over the words cost about 10 µs a row, a pattern
    tried at every character (a leading look-behind) 9 µs."""
    first, rest = phrase[0], phrase[1:]
    ahead = "".join(r"\s+" + re.escape(t.text) + (r"\S*" if t.prefix else "") for t in rest)
    return re.compile(
        re.escape(first.text) + f"(?<!\\S.{{{len(first.text)}}})" + "(?=" + (r"\S*" if first.prefix else "") + ahead + r"(?!\S))"
    )


class Bm25:
    """FTS5's bm25() (same formula and constants) computed in Python for a few rows, from their
    stored terms: FTS5's own bm25() first counts every phrase's documents over the whole index
    (its IDF), a pass over all the matches of a common word. Here a phrase's document count
    comes from the vocabulary lookup (`documents`, exact for a plain term) or, where that does
    not know it (a phrase of several terms, a prefix), from the scored rows themselves, each
    standing for `scale` matches."""

    def __init__(self, tree: Node, documents: dict[str, int], rows: int, tokens: int) -> None:
        self.phrases = phrases_of(tree)
        self.documents = documents
        self.rows = max(1, rows)
        self.average = max(1.0, tokens / self.rows)
        # (first letters, pattern) of each phrase: the substring test (in C) skips the pattern
        # where the phrase cannot occur.
        self.patterns = [(phrase[0].text, _occurrence_pattern(phrase)) for phrase in self.phrases]

    def scores(self, texts: Iterable[tuple[int, str]], scale: float) -> dict[int, float]:
        """{id: score} (lower is better, as bm25()) for (id, terms) rows. The terms are single
        words joined by single spaces (analyzer.index_terms), so a row's length is its spaces
        plus one: splitting it into words cost about 5 µs a row, more than the rest."""
        phrases, patterns = self.phrases, self.patterns
        rows: list[tuple[int, int, list[tuple[int, int]]]] = []  # (id, length, [(phrase, occurrences)])
        for key, text in texts:  # about 1-2 µs a row
            found = [(n, f) for n, (first, pattern) in enumerate(patterns)
                     if first in text and (f := len(pattern.findall(text)))]
            rows.append((key, text.count(" ") + 1 if text else 0, found))
        hits = [0.0] * len(phrases)
        for _, _, found in rows:
            for n, _ in found:
                hits[n] += scale
        idf = []
        for n, phrase in enumerate(phrases):
            plain = len(phrase) == 1 and not phrase[0].prefix
            known = self.documents.get(phrase[0].text) if plain else None
            documents = min(float(known) if known is not None else hits[n], self.rows)  # an estimate may pass it
            idf.append(max(1e-6, math.log((self.rows - documents + 0.5) / (documents + 0.5))))
        k1, b, average = BM25_K1, BM25_B, self.average
        return {
            key: -sum(idf[n] * f * (k1 + 1) / (f + k1 * (1 - b + b * length / average)) for n, f in found)
            for key, length, found in rows
        }


def _varints(data: bytes) -> Iterable[int]:
    """SQLite's variable-length integers, as FTS5 stores its totals."""
    position = 0
    while position < len(data):
        value = 0
        for n in range(9):
            byte = data[position]
            position += 1
            if n == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        yield value


MAX_EXPANSION = 32  # a prefix covering more index terms than this stays a prefix
MAX_SEGMENTS = 4  # FTS5 segments a bulk write leaves before it merges them all (Fts5Backend.refresh_statistics)
_LAST_CHAR = "\U0010ffff"  # sorts (as UTF-8 bytes, as FTS5 orders terms) after any continuation


class Fts5Backend:
    """SQLite: an FTS5 table whose rowid is search_documents.id; BM25 ranking (lower is better).
    Document ids are date keys (index.date_key), so the FTS5 rowid order is newest-first order."""

    name = "sqlite-fts5"
    date_keyed = True

    def expand(self, conn: sa.Connection, tree: Node) -> tuple[Node, dict[str, int]]:
        """The tree with prefix terms replaced by the few index terms they cover (`мигрант*` ->
        мигрант, мигрантов, ...): the same matches, but FTS5 streams an OR of terms, while a
        prefix term is first merged into one list of every match with positions (9.5 ms for
        `мигрант*` at 255,000 documents), again in each statement: the pilot, the sample, BM25's
        IDF. Looked up once per search in the index's vocabulary (fts5vocab, which counts each
        term's documents: about 2 ms for 80,000, 15 ms for 300,000); a prefix covering no term
        matches nothing and is dropped, and so is a phrase version holding one. Also returns the
        number of documents of each index term looked up (for Bm25). A phrase keeps its prefixes
        (as phrases of every combination of covered terms, BM25 per row and for each phrase's
        IDF cost more than the merge saved: "полиция задержала", 24 phrases, 216 -> 273 ms at 1M
        documents), so its prefixes are only checked for a first covered term, in the
        vocabulary's instance table, which stops there (0.1-0.4 ms where the row table counted
        every covered term's documents: 5-7 ms a prefix of a common word)."""
        conn.exec_driver_sql("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, search_fts, row)")
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab_instances USING fts5vocab(main, search_fts, instance)"
        )
        lookup = sa.text("SELECT term, doc FROM temp.search_vocab WHERE term >= :low AND term < :high LIMIT :n")
        exists = sa.text("SELECT 1 FROM temp.search_vocab_instances WHERE term >= :low AND term < :high LIMIT 1")
        known: dict[Term, list[Term]] = {}
        documents: dict[str, int] = {}
        present: dict[Term, bool] = {}

        def covered(term: Term) -> list[Term]:
            if not term.prefix:
                return [term]
            if term not in known:
                found = conn.execute(lookup, {"low": term.text, "high": term.text + _LAST_CHAR, "n": MAX_EXPANSION + 1})
                words = [(str(w), int(n)) for w, n in found]
                if len(words) <= MAX_EXPANSION:
                    documents.update(words)
                    known[term] = [Term(w, False) for w, _ in words]
                else:
                    known[term] = [term]
            return known[term]

        def indexed(term: Term) -> bool:
            if not term.prefix or term in known:
                return bool(covered(term))
            if term not in present:
                bounds = {"low": term.text, "high": term.text + _LAST_CHAR}
                present[term] = conn.execute(exists, bounds).first() is not None
            return present[term]

        def walk(node: Node) -> Node:
            if isinstance(node, AnyTerm):
                terms = tuple(dict.fromkeys(t for alt in node.alternatives for t in covered(alt)))
                return AnyTerm(terms) if terms else node
            if isinstance(node, TermPhrase):
                phrases = tuple(v for v in node.versions if all(indexed(t) for t in v))
                return TermPhrase(phrases) if phrases else node
            if isinstance(node, And | Or):
                return type(node)(tuple(walk(c) for c in node.children))
            if isinstance(node, Not):
                return Not(walk(node.child))
            return node

        return walk(tree), documents

    def ranks_all(self, tree: Node) -> bool:
        """Whether a search of `tree` reads its matches' ids once and ranks them here (Bm25): FTS5
        merges the whole posting lists, with positions, of a phrase of several terms or a prefix
        left after expansion in every statement (the pilot, the match, bm25()'s IDF: 30 ms each
        for `"полиция задержала"` at 1M documents), and where the tree only lists alternatives
        (no AND, no NOT) every document holding one of its phrases is a match, so the matches in
        hand give each phrase's document count exactly."""
        def alternatives(node: Node) -> bool:
            return isinstance(node, AnyTerm | TermPhrase) or (
                isinstance(node, Or) and all(alternatives(c) for c in node.children)
            )

        return alternatives(tree) and any(len(p) > 1 or p[0].prefix for p in phrases_of(tree))

    def scored(self, scores: dict[int, float]) -> sa.Subquery:
        """(id, score) of documents ranked here, in the shape of `matches`: one JSON parameter."""
        pairs = json.dumps([[key, score] for key, score in scores.items()])
        return (
            sa.text("SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS score "
                    "FROM json_each(:scored)")
            .bindparams(scored=pairs)
            .columns(sa.column("id", sa.Integer), sa.column("score", sa.Float))
            .subquery("m")
        )

    def count(self, conn: sa.Connection, tree: Node) -> int:
        """How many documents the full-text part matches (streamed in C, no ranking: ~0.1 µs a match)."""
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :q"), {"q": render_fts5(tree)}
            ).scalar_one()
        )

    def idf_documents(self, tree: Node, documents: dict[str, int]) -> int:
        """How many documents FTS5's bm25() passes over for its IDF, as far as the vocabulary
        lookup counted them (phrases of several terms and prefixes left out)."""
        return sum(documents.get(p[0].text, 0) for p in phrases_of(tree) if len(p) == 1 and not p[0].prefix)

    def bm25(
        self, conn: sa.Connection, tree: Node, ids: Sequence[int], documents: dict[str, int], scale: float,
    ) -> dict[int, float]:
        """BM25 of the documents `ids` (matches of `tree`, each standing for `scale` matches) from
        their stored terms (Bm25), with the index's row and token totals (FTS5's averages record)."""
        totals = conn.execute(sa.text("SELECT block FROM search_fts_data WHERE id = 1")).scalar()
        rows, tokens = [*_varints(bytes(totals or b"")), 0, 0][:2]
        # The terms as FTS5 stores them, from its content table (through FTS5 took 40 % longer), the
        # ids as one JSON array, on the DB-API cursor: 2.4 ms for 1,500 rows, where an expanded IN
        # list of parameters and SQLAlchemy's result rows took 8 ms.
        cursor = conn.connection.cursor()
        try:
            cursor.execute("SELECT id, c0 FROM search_fts_content WHERE id IN (SELECT value FROM json_each(?))",
                           (json.dumps(list(ids)),))
            found = [(int(i), str(t)) for i, t in cursor.fetchall()]
        finally:
            cursor.close()
        return Bm25(tree, documents, rows, tokens).scores(found, scale)

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

    def storable(self, text: str) -> str:
        """SQLite text holds any character."""
        return text

    def write_terms(self, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            conn.execute(sa.text("INSERT INTO search_fts(rowid, terms) VALUES (:id, :terms)"), list(rows))

    def refresh_statistics(self, conn: sa.Connection, written: int) -> None:
        """After a bulk write (of `written` documents; the segments tell all here): merge the index into one segment (FTS5 'optimize') once it has more
        than MAX_SEGMENTS, or the others hold more than a quarter of the largest one's pages. Every
        statement sets up an iterator per term in every segment (the smallest too) and merges
        them: at 1,000,000 documents a pass over a common word cost 1.5 times, seeking to a date
        range 10 times, and the bench's common words 1.3 times what they cost in one segment
        (optimize: 6 s). With FTS5's automerge the count passes MAX_SEGMENTS every 7 bulk writes
        or so. (The plans, FTS5 first and documents by rowid, do not depend on statistics.)"""
        sizes = [int(n) for n in conn.execute(sa.text("SELECT max(pgno) FROM search_fts_idx GROUP BY segid")).scalars()]
        if len(sizes) > MAX_SEGMENTS or (len(sizes) > 1 and 4 * max(sizes) < 3 * sum(sizes)):
            conn.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))

    def delete_terms(self, conn: sa.Connection, ids: Sequence[int]) -> None:
        if ids:
            conn.execute(sa.text("DELETE FROM search_fts WHERE rowid = :id"), [{"id": i} for i in ids])

    def clear(self, conn: sa.Connection) -> None:
        conn.execute(sa.text("DELETE FROM search_fts"))

    def matches(
        self, tree: Node, stride: int = 1, scored: bool = True, windows: Sequence[tuple[int, int, int]] | None = None,
    ) -> sa.Subquery:
        """(id, score) of every matching document (of about one in `stride`: BM25 is then computed
        for the sampled rows only; not at all unless `scored`); lower scores rank first. With
        `windows` ((first id, last id, stride within) ranges, index.sample_windows) the sample is
        read from those id ranges, which FTS5 seeks to, instead of by a modulo over every match."""
        score: sa.ColumnElement[Any] = sa.literal_column("bm25(search_fts)" if scored else "NULL")
        select = (
            sa.select(sa.literal_column("rowid").label("id"), score.label("score"))
            .select_from(sa.table("search_fts"))
            .where(sa.literal_column("search_fts").op("MATCH")(sa.bindparam("fts_query", render_fts5(tree))))
        )
        if stride > 1 and windows:
            rowid: sa.ColumnClause[int] = sa.literal_column("search_fts.rowid")  # a range FTS5 is offered (parameters: the
            parts = [  # statement stays in SQLAlchemy's cache, its compilation took 5 ms)
                select.where(
                    rowid.between(sa.bindparam(f"first{n}", first), sa.bindparam(f"last{n}", last)),
                    *([sample_condition("search_fts.rowid", every)] if every > 1 else []),
                )
                for n, (first, last, every) in enumerate(windows)
            ]
            return sa.union_all(*parts).subquery("m")
        if stride > 1:
            select = select.where(sample_condition("rowid", stride))
        return select.subquery("m")


class PostgresBackend:
    """PostgreSQL: a tsvector column of search_texts (the 'simple' configuration over our own terms, so no second
    stemming) with a GIN index; ranked by ts_rank_cd (higher is better)."""

    name = "postgresql"
    date_keyed = False
    _tsv: sa.ColumnClause[Any] = sa.literal_column("search_texts.tsv")

    def expand(self, conn: sa.Connection, tree: Node) -> tuple[Node, dict[str, int]]:
        """As is: the GIN index looks prefixes up itself."""
        return tree, {}

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

    def storable(self, text: str) -> str:
        """PostgreSQL text cannot hold U+0000 (a text file may have NULs past the bytes its type
        is detected from): the index copy drops them (the terms, computed before, still split there)."""
        return text.replace("\x00", "")

    def write_terms(self, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            conn.execute(
                sa.text("UPDATE search_texts SET tsv = to_tsvector('simple', :terms) WHERE id = :id"),
                list(rows),
            )

    def refresh_statistics(self, conn: sa.Connection, written: int) -> None:
        """ANALYZE the index tables once they have changed by more rows than the planner's
        statistics know of (after a bulk load or reindex): with stale statistics PostgreSQL
        joined 100,000 documents row by row for a query matching none (450 ms instead of 2 ms),
        and autovacuum may be off or not yet round. Self-limiting: about log2(n) times per load.
        The `written` documents are added to the server's count of changes: a backend reports its
        changes to the statistics up to a second after they commit (PostgreSQL 15), so right after
        a bulk write the count may not hold it yet (the next check may then count it twice, which
        only brings an ANALYZE forward)."""
        stale = conn.execute(sa.text(
            "SELECT s.n_mod_since_analyze + :written > greatest(c.reltuples, 1000) FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'search_documents'"
        ), {"written": written}).scalar()
        if stale:
            conn.execute(sa.text("ANALYZE search_documents, search_texts"))

    def delete_terms(self, conn: sa.Connection, ids: Sequence[int]) -> None:
        """The vector lives in the document row: deleting the row deletes it."""

    def clear(self, conn: sa.Connection) -> None:
        """Nothing outside the document tables."""

    def matches(
        self, tree: Node, stride: int = 1, scored: bool = True, windows: Sequence[tuple[int, int, int]] | None = None,
    ) -> sa.Subquery:
        """(id, -ts_rank_cd) of every match, or of about one in `stride` (ids are not dates here:
        `windows` does not apply)."""
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
