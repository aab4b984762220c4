"""Pure normalisers for residents' answers (chat text or recognised speech).

Used by the answer validators and by the Rasa NLU entity extractor. Every function
returns None when it cannot read the text; none of them raises on odd input.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from campaigns._dates import read_date
from campaigns._values import read_count, read_temperature
from campaigns._yesno import read_yes_no
from campaigns._yesno_words import SPOKEN

__all__ = [
    "NOT_SURE_WORDS",
    "NO_WORDS",
    "YES_WORDS",
    "detect_language",
    "parse_date",
    "parse_number",
    "parse_temperature",
    "parse_transport_no",
    "parse_yes_no",
]

def parse_number(text: str) -> float | None:
    """The one number in ``text`` (digits, Chinese, Korean, English numerals); None if none or several."""
    reading = read_count(text)
    return reading.value if reading.usable else None


def parse_temperature(text: str) -> float | None:
    """A body temperature in °C: 三十七度五, 37度5, 38 degrees, 99.5F (converted); None if unsure which."""
    reading = read_temperature(text)
    return reading.value if reading.usable else None


def parse_date(text: str, today: date, language: str | None = None) -> date | None:
    """A calendar date: 2026-02-03, 二月三号, 2月3日, Feb 3, 昨天, 上周六, 3 days ago; None if unsure which."""
    reading = read_date(text, today, language)
    return reading.value if reading.usable else None


def parse_yes_no(text: str, lang: str | None = None) -> str | None:
    """"yes", "no", "not_sure" or None, from zh / en / ko replies (any ``lang``); None when not plain."""
    reading = read_yes_no(text)
    return reading.value if reading.kind == "value" else None


#: The yes / no / not-sure phrases said on the phone (the voice grammar lists them).
YES_WORDS, NO_WORDS, NOT_SURE_WORDS = SPOKEN["yes"], SPOKEN["no"], SPOKEN["not_sure"]


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
