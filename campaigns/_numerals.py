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
_DEC_JOIN = re.compile(r"(\d)\s*(?:点|點|점|쩜|point|dot|。)\s*(\d)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")

_EN_SMALL = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}
_EN_SMALL["oh"] = 0
_EN_TENS = {w: 10 * (i + 2) for i, w in enumerate(
    ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])}
_EN_BIG = {"thousand": 1000, "million": 1_000_000}
_EN_WORD = re.compile(r"[a-z]+")


def cjk_int(text: str, digits: dict[str, int], units: dict[str, int], big: dict[str, int],
            colloquial: bool = True) -> int:
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
        if colloquial and last_unit >= 100 and not zero_seen:  # colloquial 一百五 = 150 (Korean 백오 = 105)
            num *= last_unit // 10
        section += num
    return total + section


def _cjk_value(match: str, sep: str, digits: dict[str, int], units: dict[str, int],
               big: dict[str, int]) -> float | None:
    text = re.sub(r"\s+", "", match)
    whole, _, frac = text.partition(sep)
    if not whole or (whole[-1] not in digits and whole[-1] not in units and whole[-1] not in big):
        return None
    value = float(cjk_int(whole, digits, units, big, colloquial=sep != "점"))
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
    found = english_numbers(text)
    return (found[0][0], found[0][2]) if found else None


def english_numbers(text: str) -> list[tuple[int, int, float]]:
    """English number words as (start, end, value): "thirty six point five", "twelve hundred", "a hundred"."""
    words = [(m.start(), m.end(), m.group(0)) for m in _EN_WORD.finditer(text.replace("-", " "))]
    known = {*_EN_SMALL, *_EN_TENS, *_EN_BIG, "hundred"}
    out: list[tuple[int, int, float]] = []
    i = 0
    while i < len(words):
        start, _, word = words[i]
        if word not in known or (word == "oh" and not out):
            i += 1
            continue
        total = current = 0
        decimals = ""
        in_fraction = half = False
        end = words[i][1]
        j = i
        while j < len(words):
            _, w_end, w = words[j]
            if in_fraction and w in _EN_SMALL and _EN_SMALL[w] < 10:
                decimals += str(_EN_SMALL[w])
            elif in_fraction:
                break
            elif w in _EN_SMALL and (current % 10 == 0 or current >= 100) and not (10 <= current < 20):
                if current % 100 and current % 10 == 0 and _EN_SMALL[w] >= 10:
                    break  # "thirty twelve" is two numbers
                current += _EN_SMALL[w]
            elif w in _EN_TENS and current % 100 == 0:
                current += _EN_TENS[w]
            elif w == "hundred":
                current = (current or 1) * 100
            elif w in _EN_BIG:
                total += (current or 1) * _EN_BIG[w]
                current = 0
            elif w in ("point", "dot") and j + 1 < len(words) and words[j + 1][2] in _EN_SMALL:
                in_fraction = True
            elif w == "half" and j >= 2 and words[j - 1][2] == "a" and words[j - 2][2] == "and":
                half = True
                end = w_end
                j += 1
                break
            elif w in ("and", "a") and j + 1 < len(words) and words[j + 1][2] in (*known, "a", "half"):
                pass
            else:
                break
            if w not in ("and", "a", "point", "dot"):
                end = w_end
            j += 1
        value = float(total + current) + (float("0." + decimals) if decimals else 0.0) + (0.5 if half else 0.0)
        out.append((start, end, value))
        i = max(j, i + 1)
    return out


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


# ------------------------------------------------------------------ every number, with where it is
_KO_NATIVE_TENS = {"열": 10, "스물": 20, "스무": 20, "서른": 30, "마흔": 40, "쉰": 50, "예순": 60, "일흔": 70,
                   "여든": 80, "아흔": 90}
_KO_NATIVE_UNITS = {"하나": 1, "한": 1, "둘": 2, "두": 2, "셋": 3, "세": 3, "석": 3, "넷": 4, "네": 4, "다섯": 5,
                    "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9}
_KO_COUNTER = r"(?=\s*(?:도|명|사람|분|개|번|살|시|점|반))"
_KO_NATIVE_RE = re.compile(
    rf"(?<![가-힣])(?P<tens>{'|'.join(sorted(_KO_NATIVE_TENS, key=len, reverse=True))})?\s*"
    rf"(?P<unit>{'|'.join(sorted(_KO_NATIVE_UNITS, key=len, reverse=True))})?(?![가-힣])?{_KO_COUNTER}"
)
#: Chinese characters that are digits only inside words: 一下, 一点 (a little), 一直, 万一, 十分 (very).
_ZH_NOT_NUMBER = re.compile(
    r"万一|百分之百?|单一|统一|唯一|一一|一(?=个都|个也|个人都|个人也|人都|人也|下|点儿|点点|些|样|直|共|起|般|定|会|切|路|边|向|概|律|旦|致|次性|家人|大早|早)|(?<=万)一|(?<=统)一"
    r"|十(?=分|足)|(?<=有)一点(?![0-9零〇一二两三四五六七八九])|(?<=一)点(?![0-9零〇一二两三四五六七八九])"
)
_KO_SINO_RE = re.compile(
    rf"(?<![가-힣])(?!이번|이사|사이|일이|오이|이거|이게|이건|이런|이제|이미|이렇|이상|일단|일부|삼촌|사실|구역|구청|십분|오전|오후)[{_KO_CHARS}]+(?:\s+[{_KO_CHARS}]+)*(?:\s*점\s*[{''.join(_KO_DIGITS)}]+)?"
    r"(?=\s*(?:도|명|사람|분|부|개|번|살|세|시|월|일|점|쯤|정도|이요|입니다|이에요|예요|요|반|인가|이나|이고|에서|까지|나왔)"
    r"|\s*$|[^가-힣])"
)
_ARABIC_SPAN = re.compile(r"\d+(?:\.\d+)?(?:\s*(?:[万萬千百만천백](?![一二三四五六七八九零两])|k\b))?")
_HALF = re.compile(r"(\d)\s*(?:and a half|and half|点半|半|반)")


_CAPITALS = str.maketrans("壹贰貳叁參肆伍陆陸柒捌玖拾佰仟", "一二二三三四五六六七八九十百千")


def prepare(text: str) -> str:
    """Decimal commas (36,8), "point"/点/점 between digits, thousands separators, "and a half": to digits."""
    text = re.sub(r"(?<![\d,])(\d{2}),(\d)(?![\d,])", r"\1.\2", text)  # 36,8 (a decimal comma)
    text = text.replace("廿", "二十").replace("卅", "三十").replace("쩜", "점")
    text = text.translate(_CAPITALS)  # 叁拾陆度伍: the numerals of cheques and receipts
    text = re.sub(r"(?<![\d.])(\d{1,3})\s(\d{3})(?![\d.])", r"\1\2", text)  # 12 000: a space between thousands
    text = re.sub(r"(\d+)\s*[万만]\s*(\d)\s*[千천]", lambda m: str(int(m[1]) * 10000 + int(m[2]) * 1000), text)
    text = re.sub(r"(\d+)\s*(hundred|thousand)\b", lambda m: str(int(m[1]) * (100 if m[2] == "hundred" else 1000)), text)
    text = _THOUSANDS.sub("", _DEC_JOIN.sub(r"\1.\2", text))
    return _HALF.sub(r"\1.5", text)


def numbers_in(text: str) -> list[tuple[int, int, float]]:
    """Every number in an already folded text, as (start, end, value), in order; overlapping reads dropped."""
    found: list[tuple[int, int, float]] = []
    masked = _ZH_NOT_NUMBER.sub(lambda m: "\0" * len(m.group(0)), text)
    for m in _ARABIC_SPAN.finditer(masked):
        token = m.group(0)
        mult = {"万": 10_000, "萬": 10_000, "만": 10_000, "千": 1000, "천": 1000, "k": 1000, "百": 100,
                "백": 100}.get(token[-1], 1)
        found.append((m.start(), m.end(), float(token.rstrip("万萬千百만천백k ")) * mult))
    for m in _ZH_RE.finditer(masked):
        value = _cjk_value(m.group(0).replace("點", "点"), "点", _ZH_DIGITS, _ZH_UNITS, _ZH_BIG)
        if value is not None:
            found.append((m.start(), m.end(), value))
    for m in _KO_SINO_RE.finditer(masked):
        value = _cjk_value(m.group(0), "점", _KO_DIGITS, _KO_UNITS, _KO_BIG)
        if value is not None and (len(m.group(0).replace(" ", "")) > 1 or m.group(0) in ("영", "공")
                                  or masked.strip() == m.group(0)
                                  or re.match(r"\s*(?:도|명|월|일|점|번|개|살|세|부)", masked[m.end():])
                                  or re.search(r"(?:도|점)\s*$", masked[:m.start()])):
            found.append((m.start(), m.end(), value))
    for m in _KO_NATIVE_RE.finditer(masked):
        if m["tens"] or m["unit"]:
            value = float(_KO_NATIVE_TENS.get(m["tens"] or "", 0) + _KO_NATIVE_UNITS.get(m["unit"] or "", 0))
            found.append((m.start(), m.end(), value))
    found += english_numbers(masked)
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    kept: list[tuple[int, int, float]] = []
    for item in found:
        if kept and item[0] < kept[-1][1]:
            continue
        kept.append(item)
    return kept
