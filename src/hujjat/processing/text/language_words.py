"""Word rules that settle what cld3 leaves open between our languages, without a second model.

cld3 takes Uzbek in Cyrillic for Tajik and is unsure on short Latin text; heliport settled those
but costs about 900 MB of memory and 6 s to load. Frequent function words and suffixes that only
one of ru, tg, uz, ky, kk, en uses decide the same cases (bench/langid.py measures both). Each word
of the text votes for the languages whose word list or suffix list it matches; `vote` returns the
language with the most votes, or None when no word is telling or the vote is tied.
"""

from __future__ import annotations

import re


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Function words, casefolded. Only words one candidate uses and the others do not.
_WORDS: dict[str, frozenset[str]] = {
    "ru": _words("в и на не с по что к о у за из от для это как уже его их но а же ли бы мы вы он она они "
                 "был была были было при после также где когда который которые"),
    "tg": _words("дар ба аз ки ин он бо то барои аст буд нест ҳаст ҳастанд шуд шуданд кард карданд мешавад "
                 "мешаванд мекунад мекунанд гуфт бояд агар вале ё низ ҳамчун баъд"),
    "uz": _words("бу билан учун эса бир деб керак уч уни ушбу шу ҳақида бўйича лекин ёки "
                 "икки bu bilan uchun ikki esa bir deb kerak uch besh beri uni ushbu shu haqida boʻyicha lekin yoki ham "
                 "va"),
    "ky": _words("эки жана бул менен үчүн деп боюнча анын алар эмес бар жок дагы"),
    "kk": _words("және бұл мен үшін деп бойынша оның олар емес бар жоқ тағы"),
    "en": _words("the a an of to in on at and or is are was were be been has have had not for with by "
                 "from this that it he she they we you continue continues"),
}

# Word endings, casefolded; checked longest first, and only on words longer than the ending + 1.
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "ru": ("ого", "его", "ому", "ыми", "ими", "ться", "тся", "ется", "ются", "ешь", "ость", "ование", "ции",
           "ии", "ает", "яет", "ует", "ают", "яют", "ный", "ная", "ное", "ные", "ских", "ской"),
    "tg": ("ҳо", "ҳои", "ҳоро", "ҳоям", "ро", "шуда", "шудааст", "анд", "дааст", "гоҳ"),
    "uz": ("лар", "лари", "ларни", "ларга", "ларда", "лардан", "нинг", "ган", "моқда", "ишди", "япти", "йди",
           "илди", "инди", "ликдан", "лик", "даги", "дан", "га", "ни", "да",
           "lar", "lari", "larni", "larga", "larda", "lardan", "ning", "gan", "moqda", "ishdi", "yapti", "ydi",
           "ildi", "indi", "likdan", "lik", "dagi", "dan", "ga", "ni", "da", "shdi", "ish", "chi", "chilar"),
    "ky": ("ттар", "ттер", "дын", "дин", "тын", "тин", "нын", "нин", "дардын", "тардын", "лардын", "ышты", "ишти", "ушту",
           "үштү", "шту", "ды", "ты", "ган", "кан", "ни", "да", "га"),
    "en": ("ing", "tion", "ed", "ly", "ness", "ment", "s"),
}

_TOKEN = re.compile(r"[^\W\d_]+(?:['ʻʼ’`][^\W\d_]+)?")
_LONGEST = max(len(end) for ends in _SUFFIXES.values() for end in ends)
# Per language, index k: the endings of at most k letters, as one tuple for str.endswith (one C call
# per word instead of a Python loop over every ending: this ran for every indexed post).
_ENDINGS: dict[str, list[tuple[str, ...]]] = {
    lang: [tuple(end for end in ends if len(end) <= k) for k in range(_LONGEST + 1)] for lang, ends in _SUFFIXES.items()
}
_NONE: list[tuple[str, ...]] = [()] * (_LONGEST + 1)


def vote(text: str, candidates: tuple[str, ...]) -> str | None:
    """The candidate most words of `text` point to, or None if none does or two tie."""
    scores = dict.fromkeys(candidates, 0)
    for word in _TOKEN.findall(text.casefold()):
        usable = min(len(word) - 2, _LONGEST)  # an ending counts only on a word longer than it + 1
        for lang in candidates:
            if word in _WORDS.get(lang, ()):
                scores[lang] += 2
            elif usable > 0 and word.endswith(_ENDINGS.get(lang, _NONE)[usable]):
                scores[lang] += 1
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    if not ranked or ranked[0][1] == 0 or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]
