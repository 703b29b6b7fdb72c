"""Text normalisation for search: tokenising with offsets, folding, and Uzbek transliteration.

Everything the index stores and every query term pass through the same functions, so the two
always agree. Folding: NFKC, case folding, ё -> е, apostrophe variants dropped (o'zbek = oʻzbek =
o`zbek -> ozbek). Tajik and Kyrgyz/Kazakh letters (ҳ ҷ қ ғ ӣ ӯ ң ө ү ә і ұ һ) are letters, kept as
they are, so they stay searchable and distinct. Uzbek Cyrillic is transliterated to the official
Latin alphabet (then folded the same way), so "Тошкент" and "Toshkent" become one term.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

MAX_TERM_CHARS = 64
APOSTROPHES = "'ʻʼ’‘`´ʹ"
# A word: letters/digits, with apostrophes allowed between letters (Uzbek oʻ, gʻ, tutuq belgisi).
WORD_RE = re.compile(r"[^\W_]+(?:[" + APOSTROPHES + r"][^\W_]+)*")
_DROP = str.maketrans("", "", APOSTROPHES)

_UZ_CYR = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ж": "j", "з": "z", "и": "i", "й": "y",
    "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "x", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "'", "ь": "",
    "ы": "i", "э": "e", "ю": "yu", "я": "ya", "ё": "yo", "ў": "o'", "қ": "q", "ғ": "g'", "ҳ": "h",
}
_VOWELS = set("аеёиоуўэюяaeiou")


_CYRILLIC_RE = re.compile("[\u0400-\u052f]")  # Cyrillic and Cyrillic Supplement
_LATIN_RE = re.compile("[A-Za-z]")


def count_letters(text: str) -> tuple[int, int]:
    """(Cyrillic, ASCII Latin) letters in `text`, counted in C: a loop over the characters was
    half of language detection's time on posts."""
    return len(_CYRILLIC_RE.findall(text)), len(_LATIN_RE.findall(text))


def script_of(word: str) -> str:
    """"cyrl", "latn" or "other", by the majority of the word's letters."""
    cyr, lat = count_letters(word)
    if cyr == 0 and lat == 0:
        return "other"
    return "cyrl" if cyr >= lat else "latn"


def iter_words(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, word) for each word of `text` (offsets into the text as given)."""
    for match in WORD_RE.finditer(text):
        yield match.start(), match.end(), match.group()


def fold(word: str) -> str:
    """Case-fold, ё -> е, drop apostrophes and combining marks; truncate to MAX_TERM_CHARS."""
    folded = unicodedata.normalize("NFKC", word).casefold().replace("ё", "е").translate(_DROP)
    if not folded.isalnum():
        folded = "".join(c for c in folded if c.isalnum())
    return folded[:MAX_TERM_CHARS]


def uz_latin(word: str) -> str:
    """Transliterate an Uzbek Cyrillic word (already case-folded) to the Latin alphabet.

    е is "ye" at the start of a word and after a vowel or ъ/ь, else "e"; ё/ю/я are always
    iotated; ц is "ts". The result is folded like any Latin word.
    """
    out: list[str] = []
    previous = ""
    for index, char in enumerate(word):
        if char == "е":
            out.append("ye" if index == 0 or previous in _VOWELS or previous in "ъь" else "e")
        else:
            out.append(_UZ_CYR.get(char, char))
        previous = char
    return "".join(out)


def words_folded(text: str) -> list[str]:
    """The folded words of a text, empties removed (used for queries and tests)."""
    return [f for _, _, w in iter_words(unicodedata.normalize("NFC", text)) if (f := fold(w))]
