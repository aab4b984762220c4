"""Words of dates that readers turn into numbers first: English ordinals and short forms ("the eighth", "yday",
"sat"), and the holidays residents date things by (元旦, 三八节, 除夕, 正月初八, 元宵: lunar ones from a table of Spring
Festival days)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from campaigns import _numerals

__all__ = ["ARRIVED", "english_words_to_digits", "holiday"]

_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
             "nineteenth", "twentieth"]
_CARDINALS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
              "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]
_DAY_WORDS = {**{w: i + 1 for i, w in enumerate(_ORDINALS)}, "thirtieth": 30, "thirty first": 31,
              **{f"twenty {w}": 21 + i for i, w in enumerate(_ORDINALS[:9])}}
_MONTH_NAMES = r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
_EN_SHORT_DAYS = {"mon": "monday", "tue": "tuesday", "tues": "tuesday", "wed": "wednesday", "thu": "thursday",
                  "thur": "thursday", "thurs": "thursday", "fri": "friday", "sat": "saturday", "sun": "sunday"}
_EN_SHORT = {"yday": "yesterday", "yest": "yesterday", "ystrday": "yesterday", "yesterdy": "yesterday",
             "yesteday": "yesterday", "tmrw": "tomorrow", "tdy": "today", "2day": "today", "tonite": "tonight"}
_TODAY_PHRASES = re.compile(r"(?:this (?:afternoon|evening)|tonight|just (?:now|arrived|got here|got in)|an hour ago"
                            r"|(?:a few|two|three|\d+) hours ago|earlier today)\b")


def english_words_to_digits(norm: str) -> str:
    """"the eighth of march" → "the 8th of march", "march eight" → "march 8", "yday" → "yesterday", "sat" → "saturday"."""
    norm = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", norm)
    words = sorted(_DAY_WORDS, key=len, reverse=True)
    norm = re.sub(r"\b(" + "|".join(words) + r")\b", lambda m: f"{_DAY_WORDS[m[1]]}th", norm)
    norm = re.sub(rf"\b({_MONTH_NAMES})\s+(?:the\s+)?({'|'.join(_CARDINALS)})\b",
                  lambda m: f"{m[1]} {_CARDINALS.index(m[2]) + 1}", norm)
    norm = re.sub(rf"\b({_MONTH_NAMES})\s+the\s+(\d)", r"\1 \2", norm)
    norm = re.sub(r"\b(\d{1,2})-([a-z]{3,9})-(\d{4})\b", r"\1 \2 \3", norm)
    norm = re.sub(r"\b(20\d{2})(\d{2})(\d{2})\b", r"\1-\2-\3", norm)
    norm = re.sub(r"\b(" + "|".join(_EN_SHORT_DAYS) + r")\b\.?", lambda m: _EN_SHORT_DAYS[m[1]], norm)
    norm = re.sub(r"\b(" + "|".join(_EN_SHORT) + r")\b", lambda m: _EN_SHORT[m[1]], norm)
    norm = re.sub(r"\b(two|three|\d) days back\b", r"\1 days ago", norm)
    norm = re.sub(r"\bday before yesterday\b", "day before yesterday", norm)
    return _TODAY_PHRASES.sub("today", norm)


#: Spring Festival (正月初一) by year, for the lunar holidays residents date things by.
_SPRING_FESTIVAL = {2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
                    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3)}
_LUNAR = re.compile(r"除夕|大年三十|大年初一|春节|正月(初[一二三四五六七八九十]|十[一二三四五六七八九]?|二十)|元宵")
_SOLAR = {"元旦": (1, 1), "情人节": (2, 14), "三八节": (3, 8), "妇女节": (3, 8), "劳动节": (5, 1), "国庆": (10, 1)}
ARRIVED = re.compile(r"到的|到达|抵达|到了|到\b|回来的|\barrived\b|\bgot (?:here|in|back)\b|도착|왔어요|왔습니다")


def holiday(norm: str, today: date) -> date | None:
    for name, (month, day) in _SOLAR.items():
        if name in norm:
            this_year = date(today.year, month, day)
            return this_year if this_year <= today else date(today.year - 1, month, day)
    m = _LUNAR.search(norm)
    if not m:
        return None
    for year in (today.year, today.year - 1):
        first = _SPRING_FESTIVAL.get(year)
        if first is None:
            continue
        word = m.group(0)
        if word in ("除夕", "大年三十"):
            found = first - timedelta(days=1)
        elif word in ("大年初一", "春节"):
            found = first
        elif word == "元宵":
            found = first + timedelta(days=14)
        else:
            nth = int(_numerals.first_number(m[1].removeprefix("初")) or 1)
            found = first + timedelta(days=nth - 1)
        if found <= today:
            return found
    return None
