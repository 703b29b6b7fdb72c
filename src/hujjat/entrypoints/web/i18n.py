"""UI languages: gettext catalogues (`locale/<lang>/LC_MESSAGES/messages.po`, read with Babel)
and locale-aware dates. English is the source language; a missing translation shows the English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache, lru_cache
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "ru")


@dataclass(frozen=True)
class Translator:
    language: str
    catalog: dict[str, str]

    def gettext(self, message: str) -> str:
        return self.catalog.get(message) or message

    def date(self, moment: datetime, with_time: bool = True) -> str:
        return _formatted(moment, moment.tzinfo, with_time, self.language)


@lru_cache(maxsize=16384)
def _formatted(moment: datetime, zone: tzinfo | None, with_time: bool, language: str) -> str:
    """Babel formats a date in about 60 us, and a list page shows dozens; the same records' dates
    come back on every page view, so they are remembered. `zone` is part of the key because aware
    datetimes of the same instant in different zones are equal (and hash alike)."""
    if with_time:
        return format_datetime(moment, format="medium", tzinfo=moment.tzinfo, locale=language)
    return format_date(moment, format="medium", locale=language)


@cache
def _catalog(language: str) -> dict[str, str]:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and isinstance(m.id, str)}


def translator(language: str | None) -> Translator:
    lang = language if language in LANGUAGES else "en"
    return Translator(lang, _catalog(lang))
