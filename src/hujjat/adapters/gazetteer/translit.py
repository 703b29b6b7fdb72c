"""Name keys for matching place names across scripts and transliteration schemes.

`exact_key` folds case, accents and punctuation but keeps the script, so "Екатеринбург" matches
the GeoNames alternate name "Екатеринбург". `loose_key` also transliterates Cyrillic (Russian,
Uzbek, Kazakh, Kyrgyz and Tajik letters) to Latin and collapses the spelling differences between
the usual schemes (ye/e/je, kh/h/x, zh/j, sh/š, ts/c/tz, ya/ja/ia, doubled letters, q/k, w/v),
so "Jekaterinburg", "Ekaterinburg", "Yekaterinburg" and "Екатеринбург" share one key. Pure
functions, no I/O: the index and the resolver both use them, so a query and the data fold alike.
"""

from __future__ import annotations

import functools
import re
import unicodedata

CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Ukrainian, Belarusian, Central Asian letters
    "є": "ye", "і": "i", "ї": "yi", "ґ": "g", "ў": "u", "қ": "k", "ғ": "g", "ҳ": "h", "ә": "a",
    "ө": "o", "ү": "u", "ұ": "u", "ң": "ng", "җ": "zh", "ӣ": "i", "ӯ": "u", "ҷ": "zh", "һ": "h",
}
_LOOSE_STEPS: tuple[tuple[str, str], ...] = (
    (r"shch|sch|szcz", "S"),
    (r"dzh|dj|zh|ž", "Z"),
    (r"tch|ch|cz|č", "C"),
    (r"sh|sz|š|ş", "S"),
    (r"kh|x", "h"),
    (r"ts|tz", "c"),
    (r"ph", "f"),
    (r"q|ck", "k"),
    (r"w", "v"),
    (r"[jy]", "i"),
    (r"\bi(?=[aeou])|(?<=[SZC])i(?=[aeou])", ""),  # ye/ya/yu/yo at the start of a word: ekaterinburg = yekaterinburg
    (r"i(?=[aeou])", "i"),
    (r"([a-zA-Z])\1+", r"\1"),  # doubled letters
    (r"ii\b|i\b", "i"),
)
_LOOSE_COMPILED = tuple((re.compile(pattern), repl) for pattern, repl in _LOOSE_STEPS)
_KEEP = re.compile(r"[^0-9a-zа-яёєіїґўқғҳәөүұңҗӣӯҷһ ]+")


_OTHER_SCRIPT = re.compile(r"[^\x00-\u024f\u0400-\u04ff\u1e00-\u1eff\u2010-\u2019\u02bb\u02bc\s]")
_PUNCT = re.compile(r"[-‐‑–—_/.’'`ʼʻ]+")


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    # Drop accents, but keep the Cyrillic letters that decompose (й, ё, ї, ў).
    if "\u0400" <= ch <= "\u04ff":
        return "е" if ch == "ё" else ch
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))


def exact_key(text: str) -> str:
    """Case, accents, punctuation and spacing folded; script kept ('' for other scripts)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if _OTHER_SCRIPT.search(folded):
        return ""
    if not folded.isascii():
        folded = "".join(map(_fold_char, unicodedata.normalize("NFC", folded)))
    folded = _PUNCT.sub(" ", folded)
    return " ".join(_KEEP.sub(" ", folded).split())


def to_latin(text: str) -> str:
    return "".join(CYRILLIC.get(ch, ch) for ch in text)


def loose_key(text: str) -> str:
    """Script- and scheme-independent key (Latin letters only); '' when there is nothing to key."""
    return loose_from_exact(exact_key(text))


def loose_from_exact(exact: str) -> str:
    if not exact:
        return ""
    key = to_latin(exact) if not exact.isascii() else exact
    if re.search(r"[^a-z0-9 ]", key):
        return ""
    for pattern, repl in _LOOSE_COMPILED:
        key = pattern.sub(repl, key)
    return key.lower().replace(" ", "")


# Words that make a name a first-level region, and Russian-style adjective endings
# ("Свердловская область" -> "sverdlovsk"), applied to a transliterated exact key.
REGION_WORDS = frozenset({
    "oblast", "oblasti", "oblysy", "oblisi", "oblys", "region", "province", "krai", "kray", "respublika",
    "republic", "of", "the", "viloyati", "viloyat", "wiloyati", "velayat", "autonomous", "okrug", "ao",
    "область", "обл", "край", "республика", "респ", "вилояти", "вилоят", "облысы", "автономный", "округ",
})
_ADJECTIVE = re.compile(r"(?:sk|ck)(?:aya|iy|ii|ij|oy|yy|ogo|y|a)?$")


def region_key(text: str) -> tuple[str, bool]:
    """(key, mentions a region word) for matching admin1 names."""
    words = exact_key(text).split()
    kept = [w for w in words if w not in REGION_WORDS]
    had_word = len(kept) != len(words)
    latin = [_ADJECTIVE.sub("", to_latin(w)) for w in kept]
    return loose_key(" ".join(latin)), had_word
