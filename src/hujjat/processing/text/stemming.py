"""Stems for the index: Snowball (PyStemmer) for Russian and English, suffix stripping for Tajik,
Kyrgyz/Kazakh and Uzbek, which have no Snowball stemmer.

A document is indexed with one strategy, chosen by its language; a query word is analysed with
every strategy and matched as a prefix, so "hujjat" finds "hujjatlarini" and "муҳоҷир" finds
"муҳоҷирони" whatever language the query was typed in. The strippers are deliberately light
(case and number endings, possessives): they remove a suffix only when a stem of 4 letters (5 for
one- and two-letter suffixes) remains, because prefix matching at query time covers the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from itertools import product

import Stemmer  # type: ignore[import-not-found]

from hujjat.processing.text.normalise import fold, script_of, uz_latin

STRATEGIES = ("ru", "tg", "turkic", "uz")
LANGUAGE_STRATEGY = {"tg": "tg", "ky": "turkic", "kk": "turkic", "uz": "uz"}


def _by_length(suffixes: Iterable[str]) -> list[tuple[int, frozenset[str]]]:
    """Suffixes grouped by length, longest first: a word ends in at most one suffix of each
    length, so one set lookup per length replaces an endswith() per suffix (a hundred Kyrgyz ones)."""
    listed = set(suffixes)
    return [(n, frozenset(s for s in listed if len(s) == n)) for n in sorted({len(s) for s in listed}, reverse=True)]


_TG = _by_length(
    ["ҳоямон", "ҳоятон", "ҳояшон", "ҳоро", "ҳояш", "ҳоям", "ҳоят", "ҳои", "ҳо", "ониро", "онро", "они", "он", "ёнро", "ёни", "ён", "гонро", "гони", "гон", "иро", "ро", "амон", "атон", "ашон", "ям", "яш", "ят", "ам", "ат", "аш", "ӣ", "и", "е"],
)
_TURKIC = _by_length(
    {
        *("".join(p) for p in product("лдт", ("ар", "ер", "ор", "өр"))),
        *("".join(p) for p in product("ндт", ("ын", "ин", "ун", "үн", "ың", "ің"))),
        *("".join(p) for p in product("гкқғ", "аеоө")),
        *("".join(p) for p in product("дт", "аеоө")),
        *("".join(p) for p in product("дтн", ("ан", "ен", "он", "өн"))),
        *("".join(p) for p in product("ндт", "ыиуүі")),
        *("".join(p) for p in product("дт", ("агы", "еги", "огу", "өгү", "ағы", "егі"))),
        *("с" + v for v in "ыиуүі"),
        *(v + "м" for v in "ыиуүі"),
        *"ыиуүі",
        "нда", "нде", "на", "не",
    }
)
_UZ = _by_length(
    ["larimizni", "laringizni", "larimiz", "laringiz", "larining", "larini", "laridan", "larida", "lariga", "lardan", "larda", "larga", "lari", "lar", "imizni", "imiz", "ingiz", "ining", "ning", "ini", "dagi", "dan", "da", "ga", "ka", "qa", "ni", "si", "im", "ing", "i"],
)


def strip_suffixes(word: str, suffixes: list[tuple[int, frozenset[str]]], passes: int) -> str:
    """Remove the longest listed suffix that leaves a long enough stem, up to `passes` times."""
    for _ in range(passes):
        for length, endings in suffixes:
            keep = len(word) - length
            if keep >= (4 if length >= 3 else 5) and word[keep:] in endings:
                word = word[:keep]
                break
        else:
            return word
    return word


@lru_cache(maxsize=4)
def _snowball(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


@lru_cache(maxsize=200_000)
def stem(word: str, strategy: str) -> str:
    """The index term for one raw word under one strategy (empty when nothing is searchable)."""
    script = script_of(word)
    if strategy == "uz":
        lowered = word.casefold()
        latin = fold(uz_latin(lowered) if script == "cyrl" else lowered)
        return strip_suffixes(latin, _UZ, 3) if script_of(latin) == "latn" else latin
    folded = fold(word)
    if not folded or script == "other":
        return folded
    if script == "latn":
        return str(_snowball("english").stemWord(folded))
    if strategy == "tg":
        return strip_suffixes(folded, _TG, 2)
    if strategy == "turkic":
        return strip_suffixes(folded, _TURKIC, 3)
    return str(_snowball("russian").stemWord(folded))


def surface(word: str, strategy: str) -> str:
    """The folded word without stemming (for prefix queries the user typed, `word*`)."""
    if strategy == "uz" and script_of(word) == "cyrl":
        return fold(uz_latin(word.casefold()))
    return fold(word)


def strategy_for(language: str | None) -> str:
    return LANGUAGE_STRATEGY.get(language or "", "ru")
