"""Numeral readers behind ``normalize.parse_number`` (digits, 中文, 한국어 Sino, English)."""

from __future__ import annotations

import re

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000}
_KO_DIGITS = {"영": 0, "공": 0, "일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6,
              "륙": 6, "칠": 7, "팔": 8, "구": 9}
_KO_UNITS = {"십": 10, "백": 100, "천": 1000}
_KO_BIG = {"만": 10_000, "억": 100_000_000}

_ZH_CHARS = "".join([*_ZH_DIGITS, *_ZH_UNITS, *_ZH_BIG])
_ZH_RE = re.compile(rf"[{_ZH_CHARS}]+(?:\s*[点點]\s*[{''.join(_ZH_DIGITS)}]+)?")
_KO_CHARS = "".join([*_KO_DIGITS, *_KO_UNITS, *_KO_BIG])
_KO_RE = re.compile(
    rf"(?<![가-힣])[{_KO_CHARS}]+(?:\s+[{_KO_CHARS}]+)*(?:\s*점\s*[{''.join(_KO_DIGITS)}]+)?"
)
_ARABIC_RE = re.compile(r"\d+(?:\.\d+)?(?:\s*[万萬千百](?![一二三四五六七八九零两]))?")
_DEC_JOIN = re.compile(r"(\d)\s*(?:点|點|점|point|dot)\s*(\d)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")

_EN_SMALL = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}
_EN_SMALL["oh"] = 0
_EN_TENS = {w: 10 * (i + 2) for i, w in enumerate(
    ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])}
_EN_BIG = {"thousand": 1000, "million": 1_000_000}
_EN_WORD = re.compile(r"[a-z]+")


def cjk_int(text: str, digits: dict[str, int], units: dict[str, int], big: dict[str, int]) -> int:
    """Read 三十七, 一百零五, 两万三 (= 23000), 一千二 (= 1200); digit-only runs positionally."""
    if all(ch in digits for ch in text):
        return int("".join(str(digits[ch]) for ch in text))
    total = section = 0
    num: int | None = None
    last_unit = 0
    zero_seen = False
    for ch in text:
        if ch in digits:
            zero_seen = zero_seen or digits[ch] == 0
            num = digits[ch] or None
        elif ch in units:
            section += (num if num is not None else 1) * units[ch]
            num, last_unit, zero_seen = None, units[ch], False
        elif ch in big:
            section += num or 0
            total += (section or 1) * big[ch]
            section, num, last_unit, zero_seen = 0, None, big[ch], False
    if num is not None:
        if last_unit >= 100 and not zero_seen:  # colloquial 一百五 = 150
            num *= last_unit // 10
        section += num
    return total + section


def _cjk_value(match: str, sep: str, digits: dict[str, int], units: dict[str, int],
               big: dict[str, int]) -> float | None:
    text = re.sub(r"\s+", "", match)
    whole, _, frac = text.partition(sep)
    if not whole or (whole[-1] not in digits and whole[-1] not in units and whole[-1] not in big):
        return None
    value = float(cjk_int(whole, digits, units, big))
    if frac:
        value += float("0." + "".join(str(digits[ch]) for ch in frac))
    return value


def _arabic(text: str) -> tuple[int, float] | None:
    text = _THOUSANDS.sub("", _DEC_JOIN.sub(r"\1.\2", text))
    m = _ARABIC_RE.search(text)
    if not m:
        return None
    token = m.group(0)
    mult = {"万": 10_000, "萬": 10_000, "千": 1000, "百": 100}.get(token[-1], 1)
    return m.start(), float(token.rstrip("万萬千百 ")) * mult


def _english(text: str) -> tuple[int, float] | None:
    words = [(m.start(), m.group(0)) for m in _EN_WORD.finditer(text.replace("-", " "))]
    known = {*_EN_SMALL, *_EN_TENS, *_EN_BIG, "hundred"}
    for i, (start, word) in enumerate(words):
        if word not in known:
            continue
        total = current = 0
        decimals = ""
        in_fraction = False
        for _, w in words[i:]:
            if in_fraction and w in _EN_SMALL and _EN_SMALL[w] < 10:
                decimals += str(_EN_SMALL[w])
            elif in_fraction:
                break
            elif w in _EN_SMALL:
                current += _EN_SMALL[w]
            elif w in _EN_TENS:
                current += _EN_TENS[w]
            elif w == "hundred":
                current = (current or 1) * 100
            elif w in _EN_BIG:
                total += (current or 1) * _EN_BIG[w]
                current = 0
            elif w in ("point", "dot"):
                in_fraction = True
            elif w not in ("and", "a"):
                break
        value = float(total + current)
        return start, value + (float("0." + decimals) if decimals else 0.0)
    return None


def first_number(text: str) -> float | None:
    """The earliest number in an already normalised (NFKC, lower-case) text."""
    found: list[tuple[int, float]] = []
    arabic = _arabic(text)
    if arabic:
        found.append(arabic)
    for regex, sep, tables in (
        (_ZH_RE, "点", (_ZH_DIGITS, _ZH_UNITS, _ZH_BIG)),
        (_KO_RE, "점", (_KO_DIGITS, _KO_UNITS, _KO_BIG)),
    ):
        for m in regex.finditer(text):
            value = _cjk_value(m.group(0).replace("點", "点"), sep, *tables)
            if value is not None:
                found.append((m.start(), value))
                break
    english = _english(text)
    if english:
        found.append(english)
    return min(found)[1] if found else None
