"""Generated Telegram-like posts in ru, tg, uz (Latin and Cyrillic), ky and en for bench/search.py.

Sentences are composed from word lists (inflected forms included) plus generated proper names,
with Zipf-like word frequencies and realistic lengths (8-60 words), so no sentence repeats (the
generator checks) and the vocabulary has a long tail like real text.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

# "topical | function" words per language; the bench adds a long tail of generated words.
WORDS = {
    "ru": (
        "полиция полиции полицейские задержала задержали задержанных задержание мигрант мигранты мигрантов "
        "мигрантами мигрантам рейд рейды рейдов рейдами рынок рынке рынка общежитие общежитии документы "
        "документов документами проверка проверки проверку суд суда судом приговор активист активиста "
        "активистов правозащитники правозащитников сообщают сообщили вчера сегодня утром ночью город города "
        "городе семья семьи родственники родственников найти не могут уже третий день граждане гражданин "
        "граждан граница границе границы депортация депортации депортировали паспорт паспорта регистрация "
        "регистрации отказ отказали права права человека нарушение нарушения избили избиение пытки пыток "
        "видео фото свидетели свидетель работодатель зарплата зарплату стройка стройке | в на и с по о что "
        "это как из за от до при без для его её их они мы вы он она был была были будет"
    ),
    "tg": (
        "муҳоҷир муҳоҷирон муҳоҷирони муҳоҷиронро полис полисҳо боздошт боздоштшуда боздоштшудагон ҳуҷҷат "
        "ҳуҷҷатҳо ҳуҷҷатҳои ҳуҷҷатро бозор бозори хобгоҳ хобгоҳи додгоҳ додгоҳи ҳукм фаъол фаъолон фаъолро "
        "ҳуқуқ ҳуқуқи ҳуқуқҳои инсон дирӯз имрӯз субҳ шаб шаҳр шаҳри оила оилаи хешовандон хешовандони ёфта "
        "наметавонанд марз марзи сарҳад шаҳрвандон шаҳрвандони тоҷик тоҷикистон депорт шиноснома бақайдгирӣ "
        "рад зӯроварӣ шиканҷа видео акс шоҳид шоҳидон корфармо музд сохтмон | дар ба аз ва бо барои ки ин он "
        "онҳо мо шумо буд шуд мешавад карданд гуфт"
    ),
    "uz": (
        "migrant migrantlar migrantlarni migrantlarning politsiya politsiyachilar ushlandi ushlanganlar "
        "ushlanganlarning hujjat hujjatlar hujjatlarini hujjatlarni bozor bozorda bozorlardagi yotoqxona "
        "yotoqxonasiga sud sudi hukm faol faollar faolni huquq huquqlari inson kecha bugun ertalab kechasi "
        "shahar shahrida oila oilasi qarindoshlari topa olmayapti chegara chegarada fuqarolar fuqarolari "
        "oʻzbek o'zbekiston oʻzbekistonlik deportatsiya pasport roʻyxat rad zoʻravonlik qiynoq video surat "
        "guvoh guvohlar ish beruvchi maosh qurilish | va bilan uchun bu u ular biz siz edi boʻldi qildi dedi"
    ),
    "uzc": (
        "мигрант мигрантлар мигрантларни полиция ушланди ушланганлар ушланганларнинг ҳужжат ҳужжатлар "
        "ҳужжатларини бозор бозорда ётоқхона суд ҳукм фаол фаоллар ҳуқуқ ҳуқуқлари инсон кеча бугун эрталаб "
        "шаҳар шаҳрида оила қариндошлари чегара чегарада фуқаролар ўзбек ўзбекистон депортация паспорт "
        "рўйхат рад зўравонлик қийноқ видео сурат гувоҳ иш берувчи маош қурилиш | ва билан учун бу у улар биз "
        "эди бўлди қилди деди"
    ),
    "ky": (
        "мигрант мигранттар мигранттардын мигранттарды полиция милиция кармалды кармалгандар "
        "кармалгандардын документ документтер документтерин базар базарда жатакана сот соттун өкүм "
        "активист активисттер укук укуктары адам кечээ бүгүн эртең менен түнкүсүн шаар шаарда үй-бүлө "
        "туугандары таба албай чек ара чек арада жарандар кыргыз кыргызстан депортация паспорт каттоо "
        "баш тартуу зомбулук кыйноо видео сүрөт күбө күбөлөр иш берүүчү эмгек акы курулуш | жана менен үчүн "
        "бул ал алар биз силер болчу болду кылды деди"
    ),
    "en": (
        "police officers detained detention migrant migrants raid raids raided market dormitory documents "
        "papers check checks court sentence sentenced activist activists rights defenders report reported "
        "yesterday today morning night city family relatives cannot find third day citizens border "
        "deportation deported passport registration refused violation violations beaten torture video "
        "photo witness witnesses employer wages construction site | the a of in on and with for to from at "
        "by it they we you he she was were will be has have"
    ),
}
LANGUAGE_WEIGHTS = {"ru": 0.40, "tg": 0.15, "uz": 0.12, "uzc": 0.08, "ky": 0.10, "en": 0.15}
CHATS = [f"channel_{i:03d}" for i in range(120)]
PLACES = ["Moscow", "Saint Petersburg", "Dushanbe", "Khujand", "Tashkent", "Samarkand", "Bishkek", "Osh",
          "Almaty", "Yekaterinburg", "Novosibirsk", "Kazan", None, None, None]
STATES = ["unverified", "unverified", "unverified", "verified", "disputed", None]
_SYLLABLES = {
    "cyrl": ["ка", "ра", "ли", "мо", "на", "то", "ша", "да", "ру", "бе", "ко", "ни", "за", "ма", "ха", "жа", "ба", "ги", "ту", "со", "ло"],
    "latn": ["ka", "ra", "li", "mo", "na", "to", "sha", "da", "ru", "be", "ko", "ni", "za", "ma", "xa", "ja", "ba", "gi", "tu", "so", "lo"],
}


@dataclass(frozen=True)
class GeneratedPost:
    id: str
    chat: str
    message_id: int
    date: datetime
    language: str
    place: str | None
    state: str | None
    text: str


def _names(rng: random.Random, script: str, count: int) -> list[str]:
    """Generated words of 2-5 syllables, in a random (not alphabetical) order."""
    syllables = _SYLLABLES[script]
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 5))))
    ordered = sorted(names)
    rng.shuffle(ordered)
    return ordered


def _cumulative(count: int, exponent: float) -> list[float]:
    """Cumulative Zipf weights: random.choices re-sums plain weights on every call (40,000 for the
    tail, which made generating a post cost 1.6 ms)."""
    return list(accumulate(1 / (k + 1) ** exponent for k in range(count)))


class PostGenerator:
    def __init__(self, seed: int = 6) -> None:
        self.rng = random.Random(seed)
        self.tail = {"cyrl": _names(self.rng, "cyrl", 40_000), "latn": _names(self.rng, "latn", 40_000)}
        self.names = {s: [w.capitalize() for w in words[:3000]] for s, words in self.tail.items()}
        self.lists = {}
        for language, text in WORDS.items():
            topical, function = (part.split() for part in text.split("|"))
            self.lists[language] = (topical, _cumulative(len(topical), 0.8), function, _cumulative(len(function), 1.0))
        self.tail_weights = _cumulative(40_000, 1.05)
        self.seen: set[int] = set()

    def sentence(self, language: str) -> str:
        """Tokens: 40% function words, 8% topical words, 52% the long tail (all Zipf-like)."""
        rng = self.rng
        script = "latn" if language in ("uz", "en") else "cyrl"
        topical, topical_w, function, function_w = self.lists[language]
        length = rng.randint(8, 60)
        n_function = round(length * 0.40)
        n_topical = max(1, round(length * rng.uniform(0.0, 0.16)))
        words = rng.choices(function, cum_weights=function_w, k=n_function)
        words += rng.choices(topical, cum_weights=topical_w, k=n_topical)
        words += rng.choices(self.tail[script], cum_weights=self.tail_weights, k=max(0, length - len(words)))
        rng.shuffle(words)
        for _ in range(rng.randint(0, 3)):
            words.insert(rng.randrange(len(words)), rng.choice(self.names[script]))
        words[0] = words[0].capitalize()
        return " ".join(words) + rng.choice([".", "!", ".", "?"])

    def posts(self, count: int) -> Iterator[GeneratedPost]:
        rng = self.rng
        start = datetime(2022, 1, 1, tzinfo=UTC)
        languages = list(LANGUAGE_WEIGHTS)
        weights = list(LANGUAGE_WEIGHTS.values())
        for number in range(count):
            language = rng.choices(languages, weights)[0]
            text = self.sentence(language)
            while hash(text) in self.seen:  # the generator must not repeat one sentence
                text = self.sentence(language)
            self.seen.add(hash(text))
            yield GeneratedPost(
                id=f"p{number:07d}",
                chat=rng.choice(CHATS),
                message_id=number + 1,
                date=start + timedelta(seconds=rng.randrange(3 * 365 * 86400)),
                language="uz" if language == "uzc" else language,
                place=rng.choice(PLACES),
                state=rng.choice(STATES),
                text=text,
            )
