"""The text analyser the search index uses (ports.search.TextAnalyzer): language detection,
index terms per language, query-word alternatives, and HTML-safe highlighted snippets.

Snippets are made here from the original text rather than by the database (FTS5's snippet() or
ts_headline), because the index holds stems, not the words people wrote, and so that both
backends show the same excerpt for the same hit.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from itertools import islice, repeat

from hujjat.domain.search import Term
from hujjat.processing.text.language import LanguageDetector
from hujjat.processing.text.normalise import WORD_RE, iter_words
from hujjat.processing.text.stemming import STRATEGIES, stem, strategy_for, surface

MAX_DOC_TERMS = 10_000
SNIPPET_SCAN = 100_000  # characters searched for a match to show; long texts show their start  # PostgreSQL keeps word positions only up to 16,383


class SearchTextAnalyzer:
    def __init__(self) -> None:
        self.detector = LanguageDetector()

    def detect_language(self, text: str) -> str:
        return self.detector.detect(text)

    def index_terms(self, text: str, language: str) -> str:
        # map/filter/islice over the cached stems: a Python loop per word was most of the cost
        words = WORD_RE.findall(unicodedata.normalize("NFC", text))
        return " ".join(islice(filter(None, map(stem, words, repeat(strategy_for(language)))), MAX_DOC_TERMS))

    def query_terms(self, word: str, prefix: bool) -> list[tuple[str, ...]]:
        result = []
        for _, _, token in iter_words(unicodedata.normalize("NFC", word)):
            make = surface if prefix else stem
            alternatives = tuple(make(token, s) for s in STRATEGIES)
            if all(alternatives):
                result.append(alternatives)
        return result

    def snippet(self, text: str, language: str, terms: Sequence[Term], width: int = 240) -> str:
        text = unicodedata.normalize("NFC", text[:SNIPPET_SCAN])
        strategy = strategy_for(language)
        prefixes = tuple(t.text for t in terms if t.prefix)  # one C call per word, not a loop over terms
        exact = {t.text for t in terms if not t.prefix}
        marks: list[tuple[int, int]] = []
        for start, end, word in iter_words(text):
            term = stem(word, strategy)
            if term and (term in exact or term.startswith(prefixes)):
                marks.append((start, end))
        first = marks[0][0] if marks else 0
        begin = max(0, first - width // 4)
        if begin:  # start at a word boundary
            space = text.rfind(" ", 0, begin)
            begin = space + 1 if space >= 0 and begin - space < 20 else begin
        finish = min(len(text), begin + width)
        parts: list[str] = ["…"] if begin else []
        position = begin
        for start, end in marks:
            if start < begin or end > finish:
                continue
            parts.append(html.escape(text[position:start]))
            parts.append("<mark>" + html.escape(text[start:end]) + "</mark>")
            position = end
        parts.append(html.escape(text[position:finish]))
        if finish < len(text):
            parts.append("…")
        return " ".join("".join(parts).split())
