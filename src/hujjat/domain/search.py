"""The search query language: parsing user text into a small tree, pure and backend-neutral.

Grammar (case-sensitive operators, as users of web search engines expect):

    query   := or_expr
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*          -- juxtaposition means AND
    unary   := ("NOT" | "-") unary | primary
    primary := "(" or_expr ")" | '"' words '"' | field ":" value | word ["*"]

Why a hand-written recursive-descent parser and not a parser library: the grammar has five rules,
the domain core must stay stdlib-only, and the parser must never fail on hostile text. Every
input is accepted leniently: an unbalanced quote closes at the end, an unmatched parenthesis is
ignored, a lone or trailing operator is dropped, unknown `field:` prefixes are searched as words.
Only queries that cannot be run at all raise `QueryError` (too long, nothing but exclusions).
Words are kept as typed here; language analysis (folding, stemming) happens in processing, and
backends render the analysed tree into FTS5 MATCH or tsquery strings from normalised terms only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from hujjat.domain.errors import HujjatError

MAX_QUERY_CHARS = 1000
MAX_WORDS = 64
MAX_DEPTH = 16
KINDS = ("post", "incident", "evidence", "capture")
FIELDS = {
    "chat": "source",
    "source": "source",
    "channel": "source",
    "kind": "kind",
    "type": "type",
    "lang": "language",
    "language": "language",
    "state": "state",
    "place": "place",
}
_QUOTES = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"'})
_TOKEN_RE = re.compile(r'\s+|"|\(|\)|[^\s"()]+')
_FIELD_RE = re.compile(r"^([A-Za-z]+):(.*)$", re.S)


class QueryError(HujjatError):
    """A query that cannot be run; the message says why."""


@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class Term:
    """One normalised index term; `prefix` matches every term that starts with it."""

    text: str
    prefix: bool


@dataclass(frozen=True)
class AnyTerm:
    """An analysed word: a document matches when it holds any of the alternatives."""

    alternatives: tuple[Term, ...]


@dataclass(frozen=True)
class TermPhrase:
    """An analysed phrase: any of the versions (one per analysis strategy), terms adjacent."""

    versions: tuple[tuple[Term, ...], ...]


Node = Word | Phrase | AnyTerm | TermPhrase | And | Or | Not


@dataclass
class ParsedQuery:
    """The text part (None when the query only filters) and the field filters, which always
    apply to the whole query (values for one field are alternatives; `-field:v` excludes)."""

    tree: Node | None
    include: dict[str, list[str]] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)


def clean_query(text: str) -> str:
    """Control characters become spaces; typographic quotes become plain ones."""
    cleaned = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return cleaned.translate(_QUOTES).strip()


class _Parser:
    def __init__(self, tokens: list[str], parsed: ParsedQuery) -> None:
        self.tokens = tokens
        self.pos = 0
        self.parsed = parsed

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def or_expr(self, depth: int) -> Node | None:
        parts = [self.and_expr(depth)]
        while self.peek() == "OR":
            self.take()
            parts.append(self.and_expr(depth))
        kept = tuple(p for p in parts if p is not None)
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(kept)

    def and_expr(self, depth: int) -> Node | None:
        parts: list[Node] = []
        while (token := self.peek()) is not None and token != "OR" and not (token == ")" and depth):
            if token == "AND":
                self.take()
                continue
            node = self.unary(depth)
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self, depth: int) -> Node | None:
        token = self.peek()
        after = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else None
        if token == "NOT" or (token == "-" and after in ("(", '"')):
            self.take()
        elif token is not None and token.startswith("-") and token.strip("-"):
            self.tokens[self.pos] = token.lstrip("-")  # --word is -word
        else:
            return self.primary(depth)
        negated = self.peek()
        if negated is None or negated == "OR" or (negated == ")" and depth):
            return None  # a lone NOT is dropped
        if _FIELD_RE.match(negated):
            self.take()
            if self._field(negated, negate=True):
                return None
            word = _word(negated)
            return Not(word) if word is not None else None
        child = self.unary(depth)
        return Not(child) if child is not None else None

    def primary(self, depth: int) -> Node | None:
        token = self.take()
        if token == "(" and depth >= MAX_DEPTH:
            return None  # nesting this deep is ignored rather than followed
        if token == "(":
            inner = self.or_expr(depth + 1)
            if self.peek() == ")":
                self.take()
            return inner
        if token == ")":
            return None  # unmatched: ignored
        if token == '"':
            words: list[str] = []
            while (nxt := self.peek()) is not None and nxt != '"':
                words.append(self.take())
            if self.peek() == '"':
                self.take()
            split = [w for chunk in words for w in chunk.split() if w.strip("*")]
            return Phrase(tuple(split)) if split else None
        if _FIELD_RE.match(token) and self._field(token, negate=False):
            return None
        return _word(token)

    def _field(self, token: str, negate: bool) -> bool:
        match = _FIELD_RE.match(token)
        assert match is not None
        name, value = match.group(1).lower(), match.group(2)
        if name not in FIELDS:
            return False
        if not value and self.peek() == '"':  # field:"quoted value"
            self.take()
            parts = []
            while (nxt := self.peek()) is not None and nxt != '"':
                parts.append(self.take())
            if self.peek() == '"':
                self.take()
            value = " ".join(parts)
        value = value.strip()
        if not value:
            return True  # `chat:` with nothing after it filters nothing
        target = self.parsed.exclude if negate else self.parsed.include
        target.setdefault(FIELDS[name], []).append(value)
        return True


def _word(token: str) -> Word | None:
    prefix = token.endswith("*")
    text = token.strip("*")
    if not text:
        return None
    return Word(text, prefix)


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN_RE.findall(text) if not t.isspace()]


def parse_query(text: str) -> ParsedQuery:
    """Parse leniently; raise QueryError only for queries that cannot be run."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    tokens = _tokens(clean_query(text))
    if sum(1 for t in tokens if t not in '"()') > MAX_WORDS:
        raise QueryError(f"the query has too many words (at most {MAX_WORDS})")
    parsed = ParsedQuery(None)
    parser = _Parser(tokens, parsed)
    nodes = []
    while parser.peek() is not None:
        node = parser.or_expr(0)
        if node is not None:
            nodes.append(node)
        if parser.peek() == ")":
            parser.take()
    parsed.tree = None if not nodes else nodes[0] if len(nodes) == 1 else And(tuple(nodes))
    return parsed


def flatten(node: Node) -> Node:
    """Merge nested ANDs and ORs so backends see the simplest equivalent tree."""
    if isinstance(node, And | Or):
        merged: list[Node] = []
        for child in (flatten(c) for c in node.children):
            if type(child) is type(node):
                merged.extend(child.children)
            else:
                merged.append(child)
        return type(node)(tuple(merged)) if len(merged) > 1 else merged[0]
    if isinstance(node, Not):
        return Not(flatten(node.child))
    return node


# Analysis of words is language work done in processing; the domain only needs this signature:
# for each token of the text, its alternatives (one per strategy, the same number for all).
WordAnalyser = Callable[[str, bool], list[tuple[str, ...]]]
MIN_PREFIX = 3


def _covers(wider: Term, term: Term) -> bool:
    """Every index term `term` matches, `wider` matches too."""
    return term.text.startswith(wider.text) if wider.prefix else (term == wider)


def _dedupe(terms: list[Term]) -> tuple[Term, ...]:
    """Drop an alternative another prefix alternative already covers."""
    kept: list[Term] = []
    for term in sorted(set(terms), key=lambda t: (len(t.text), t.text, not t.prefix)):
        if not any(_covers(k, term) for k in kept):
            kept.append(term)
    return tuple(kept)


def _widest(versions: set[tuple[Term, ...]]) -> list[tuple[Term, ...]]:
    """Drop a phrase version another covers term by term ("полиция* задержала*" under "полиц*
    задержа*"): it matches nothing more, and on FTS5 each version costs BM25 a pass over the
    index (its IDF) — at 1M documents 22 ms a version."""
    return [v for v in versions if not any(u != v and all(map(_covers, u, v)) for u in versions)]


def _term(text: str, prefix: bool) -> Term:
    return Term(text, prefix and len(text) >= MIN_PREFIX)


def _analyse_words(words: list[str], user_prefix: bool, analyse: WordAnalyser) -> Node | None:
    tokens = [alts for w in words for alts in analyse(w, user_prefix)]
    if not tokens:
        return None
    if len(tokens) == 1:
        return AnyTerm(_dedupe([_term(a, True) for a in tokens[0]]))
    strategies = len(tokens[0])
    versions = _widest({tuple(_term(tok[s], True) for tok in tokens) for s in range(strategies)})
    return TermPhrase(tuple(sorted(versions, key=lambda v: [t.text for t in v])))


def analyse_tree(node: Node, analyse: WordAnalyser) -> Node | None:
    """Replace words and phrases by index terms; drop parts with nothing searchable in them."""
    if isinstance(node, Word):
        return _analyse_words([node.text], node.prefix, analyse)
    if isinstance(node, Phrase):
        return _analyse_words(list(node.words), False, analyse)
    if isinstance(node, Not):
        child = analyse_tree(node.child, analyse)
        if child is None:
            return None
        return child.child if isinstance(child, Not) else Not(child)
    if isinstance(node, And | Or):
        kept = [c for c in (analyse_tree(child, analyse) for child in node.children) if c is not None]
        if not kept:
            return None
        return flatten(type(node)(tuple(kept))) if len(kept) > 1 else kept[0]
    return node


def check_runnable(node: Node) -> None:
    """Both backends need something positive to match: reject what neither can run."""
    if isinstance(node, Not):
        raise QueryError("a query cannot only exclude words: add a word to look for")
    if isinstance(node, Or):
        if any(isinstance(c, Not) for c in node.children):
            raise QueryError("NOT (or -word) cannot be an alternative of OR; use it beside a word")
        for child in node.children:
            check_runnable(child)
    if isinstance(node, And):
        positives = [c for c in node.children if not isinstance(c, Not)]
        if not positives:
            raise QueryError("a query cannot only exclude words: add a word to look for")
        for child in node.children:
            check_runnable(child.child if isinstance(child, Not) else child)


def positive_terms(node: Node | None) -> list[Term]:
    """Every term a hit may match (negated parts excluded), for highlighting snippets."""
    if node is None or isinstance(node, Not):
        return []
    if isinstance(node, AnyTerm):
        return list(node.alternatives)
    if isinstance(node, TermPhrase):
        return [t for version in node.versions for t in version]
    if isinstance(node, And | Or):
        return [t for child in node.children for t in positive_terms(child)]
    return []
