"""Pure normalisers for residents' answers (chat text or recognised speech).

Used by the answer validators and by the Rasa NLU entity extractor. Every function
returns None when it cannot read the text; none of them raises on odd input.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from campaigns import _numerals

__all__ = [
    "detect_language",
    "parse_date",
    "parse_number",
    "parse_temperature",
    "parse_transport_no",
    "parse_yes_no",
]

YesNo = str  # "yes" | "no" | "not_sure"


def _norm(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), lower case, trimmed."""
    return unicodedata.normalize("NFKC", text or "").strip().lower()


def parse_number(text: str) -> float | None:
    """The first number in ``text``: digits, Chinese, Korean Sino or English numerals."""
    return _numerals.first_number(_norm(text))


# ---------------------------------------------------------------- temperature
_F_MARK = re.compile(r"(°\s*f\b|℉|\bf\b|fahrenheit|华氏|화씨|\d\s*f)")
_DEGREE_SPLIT = re.compile(
    r"(?P<int>[0-9零〇一二两三四五六七八九十百]+)\s*度\s*(?P<dec>[0-9零〇一二三四五六七八九]|半)(?![0-9十百])"
)


def _c_from_f(value: float) -> float:
    return round((value - 32) * 5 / 9, 1)


def parse_temperature(text: str) -> float | None:
    """A body temperature in °C: 三十七度五, 37度5, 38 degrees, 99.5F (converted)."""
    norm = _norm(text)
    match = _DEGREE_SPLIT.search(norm)
    if match:
        whole = _numerals.first_number(match["int"])
        dec = 5 if match["dec"] == "半" else _numerals.first_number(match["dec"])
        if whole is not None and dec is not None:
            return float(f"{int(whole)}.{int(dec)}")
    value = _numerals.first_number(norm)
    if value is None:
        return None
    if _F_MARK.search(norm):
        return _c_from_f(value)
    celsius_mark = any(m in norm for m in ("度", "도", "°", "℃", "celsius", "degree"))
    if not celsius_mark and 93 <= value <= 108:  # nobody has 93 °C: a Fahrenheit reading
        return _c_from_f(value)
    return value


# ----------------------------------------------------------------------- dates
_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")]
    )
    for name in names
}
_NUM = r"[0-9零〇一二两三四五六七八九十百일이삼사오육칠팔구십]+"
_ISO = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_CJK_MD = re.compile(rf"({_NUM})\s*[月월]\s*({_NUM})\s*(?:日|号|號|일)?")
_EN_MD = re.compile(r"\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b")
_EN_DM = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})\b")
_SLASH = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")
_AGO = re.compile(rf"({_NUM}|[a-z]+)\s*(?:天前|日前|일\s*전|days?\s+ago)")
_DAY_ONLY = re.compile(rf"^(?:{_NUM})\s*(?:号|號|日)$")
_RELATIVE = [
    (("大前天", "three days ago", "그끄저께"), 3),
    (("前天", "day before yesterday", "그저께", "그제"), 2),
    (("昨天", "昨日", "yesterday", "어제"), 1),
    (("今天", "今日", "today", "오늘"), 0),
]


def _past(today: date, month: int, day: int, year: int | None = None) -> date | None:
    """The date with that month and day; without a year, the most recent past one."""
    if year is not None:
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for back in range(0, 9):
        try:
            candidate = date(today.year - back, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return None


def _int(token: str) -> int | None:
    value = _numerals.first_number(token)
    return None if value is None or value != int(value) else int(value)


def parse_date(text: str, today: date) -> date | None:
    """A calendar date: 2026-02-03, 二月三号, 2月3日, Feb 3, 02/03, 昨天, 3 days ago."""
    norm = _norm(text)
    m = _ISO.search(norm)
    if m:
        return _past(today, int(m[2]), int(m[3]), int(m[1]))
    m = _CJK_MD.search(norm)
    if m:
        day_text = m[2][:-1] if len(m[2]) > 1 and m[2].endswith("일") else m[2]
        month, day = _int(m[1]), _int(day_text)
        return _past(today, month, day) if month and day else None
    for regex, mi, di in ((_EN_MD, 1, 2), (_EN_DM, 2, 1)):
        for m in regex.finditer(norm):
            if m[mi] in _MONTHS:
                return _past(today, _MONTHS[m[mi]], int(m[di]))
    m = _SLASH.search(norm)
    if m:
        return _past(today, int(m[1]), int(m[2]))
    m = _AGO.search(norm)
    if m:
        days = _int(m[1])
        return today - timedelta(days=days) if days is not None and days < 400 else None
    for words, back in _RELATIVE:
        if any(w in norm for w in words):
            return today - timedelta(days=back)
    if _DAY_ONLY.match(norm):
        day = _int(norm)
        for month_back in range(0, 3):
            first = (today.replace(day=1) - timedelta(days=31 * month_back)).replace(day=1)
            found = _past(today, first.month, day or 0, first.year) if day else None
            if found and found <= today:
                return found
    return None


# ---------------------------------------------------------------------- yes/no
_NOT_SURE = (
    "不知道", "不确定", "说不清", "不清楚", "不记得", "不太清楚", "记不清", "不好说",
    "not sure", "don't know", "dont know", "do not know", "no idea", "unsure", "maybe",
    "not certain", "can't remember", "cannot remember",
    "모르겠", "몰라", "잘 모르", "글쎄", "확실하지 않",
)
_YES_IDIOMS = ("没问题", "没错", "不错", "没毛病")
_NO_ZH_KO = ("没", "沒", "无", "無", "不", "否", "아니", "아뇨", "없")
_YES_ZH_KO = ("有", "是", "对", "對", "嗯", "好", "收到", "行", "可以", "要", "需要",
              "네", "예", "응", "있어", "있습니다", "맞아", "맞습니다", "그래")
_NO_EN = {"no", "nope", "nah", "n", "not", "never", "none", "negative", "haven't", "havent",
          "don't", "dont", "didn't", "didnt", "wrong", "incorrect"}
_YES_EN = {"yes", "yeah", "yep", "yup", "y", "sure", "correct", "right", "ok", "okay",
           "affirmative", "true", "have", "did", "do", "i do"}
_WORD = re.compile(r"[a-z']+")


def parse_yes_no(text: str, lang: str | None = None) -> str | None:
    """"yes", "no", "not_sure" or None, from zh / en / ko replies (any ``lang``)."""
    norm = _norm(text).replace("’", "'")
    if not norm:
        return None
    if any(p in norm for p in _NOT_SURE):
        return "not_sure"
    words = _WORD.findall(norm)
    if any(w in _NO_EN for w in words):
        return "no"
    if any(w in _YES_EN for w in words):
        return "yes"
    if any(p in norm for p in _YES_IDIOMS):
        return "yes"
    if any(p in norm for p in _NO_ZH_KO):
        return "no"
    if any(p in norm for p in _YES_ZH_KO):
        return "yes"
    return None


# ------------------------------------------------------------------- transport
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(rf"([{_PROVINCES}])\s*([A-Z])\s*[·•.\-\s]?\s*([A-Z0-9]{{5,6}})(?![A-Z0-9])")
_TRAIN = re.compile(r"(?<![A-Z0-9])([GDCZTKYLS])\s*(\d{1,4})(?![0-9])\s*次?")
_FLIGHT = re.compile(r"(?<![A-Z0-9])([A-Z]{2}|[A-Z]\d|\d[A-Z])\s*(\d{2,4})(?![0-9])")


def parse_transport_no(text: str) -> str | None:
    """A car plate (粤B12345), train number (G1234) or flight number (CA1234)."""
    norm = unicodedata.normalize("NFKC", text or "").upper()
    m = _PLATE.search(norm)
    if m:
        return f"{m[1]}{m[2]}{m[3]}"
    m = _TRAIN.search(norm)
    if m:
        return f"{m[1]}{m[2]}"
    m = _FLIGHT.search(norm)
    if m:
        return f"{m[1]}{m[2]}"
    return None


# -------------------------------------------------------------------- language
def detect_language(text: str) -> str | None:
    """"zh", "en" or "ko" by script (Hangul beats Han, Han beats Latin); None if none."""
    hangul = han = latin = 0
    for ch in text or "":
        code = ord(ch)
        if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            hangul += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            han += 1
        elif ch.isascii() and ch.isalpha():
            latin += 1
    if hangul and hangul >= han:
        return "ko"
    if han:
        return "zh"
    if latin:
        return "en"
    return None
