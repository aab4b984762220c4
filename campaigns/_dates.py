"""The date reader, precision first (see ``campaigns.reading``).

One date is read plainly; a hedge asks for a confirmation; two dates ("7、8号", "the 5th or 6th"), a date still to
come (an arrival has happened), a vague one ("前几天", "last week") or one that could be read two ways ("3/8" in
English or Korean, "last Monday" said on a Tuesday) is asked again.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from campaigns import _numerals
from campaigns._values import CONSECUTIVE
from campaigns.reading import NONE, Reading, fold, has_hedge, is_question

__all__ = ["read_date"]

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
_SLASH = re.compile(r"(?<![\d/.])(\d{1,2})\s*([/.])\s*(\d{1,2})(?![\d/])(?!\.\d)")
_AGO = re.compile(rf"({_NUM}|[a-z]+)\s*(?:天前|天之前|日前|일\s*전|days?\s+ago)")
_DAY_ONLY = re.compile(rf"(?:^|[^0-9월])({_NUM})\s*(?:号|號|日|일|호)(?![a-z전])|\bthe\s+(\d{{1,2}})(?:st|nd|rd|th)\b"
                       rf"|\bon\s+the\s+(\d{{1,2}})(?:st|nd|rd|th)?\b|^(\d{{1,2}})(?:st|nd|rd|th)$")
_KO_NATIVE_DAYS = {"하루": 1, "이틀": 2, "사흘": 3, "나흘": 4, "닷새": 5, "엿새": 6, "이레": 7}
_KO_DAYS_AGO = re.compile(r"(하루|이틀|사흘|나흘|닷새|엿새|이레)\s*(?:전|前)")
_RELATIVE = [
    (("大前天", "three days ago", "그끄저께", "그끄제", "그그저께"), 3),
    (("前天", "day before yesterday", "그저께", "그제"), 2),
    (("昨天", "昨日", "昨晚", "昨儿", "yesterday", "last night", "어제", "어젯밤"), 1),
    (("今天", "今日", "今早", "today", "this morning", "오늘"), 0),
]
_WEEKDAYS = {**{w: i for i, w in enumerate(("一", "二", "三", "四", "五", "六", "日"))}, "天": 6}
_ZH_WEEKDAY = re.compile(r"(上个?|这个?|本)?\s*(?:周|星期|礼拜)([一二三四五六日天])")
_EN_WEEKDAY = re.compile(r"\b(last|this past|this|on|past)?\s*(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b")
_KO_WEEKDAY = re.compile(r"(지난|저번|이번)?\s*(?:주\s*)?([월화수목금토일])요일")
_EN_WEEKDAY_WEEK = re.compile(r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+(?:of\s+)?last week"
                              r"|last week'?s?\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)")
_EN_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_KO_DAYS = "월화수목금토일"
_DEPARTED = re.compile(r"出发|动身|离开|走的|\b(?:left|departed|set off)\b|출발|떠났")
_VAGUE = re.compile(r"半夜十二点|午夜十二点|夜里十二点|\bmidnight\b|자정|前两天|几号|点几|엊그제|엊그저께|며칠(?!\s*전)|前几天|这几天|那几天|上个月|上周(?![一二三四五六日天])|上星期(?![一二三四五六日天])|最近|前阵子|不久前"
                    r"|\b(?:a few days|few days|couple of days|last week|last month|recently|the other day|a while)\b"
                    r"|며칠 전|얼마 전|지난주(?!\s*[월화수목금토일])|지난달|최근")


class _Future(Exception):
    """A date said for the days to come: an arrival has happened already, so it is asked again."""


def _past(today: date, month: int, day: int, year: int | None = None) -> date | None:
    """The date with that month and day; without a year, this year's, or last year's when this year's is more than
    two months ahead ("12月28号" said in March). A date within the next two months is the future, not a guess."""
    try:
        if year is not None:
            return date(year, month, day)
        this_year = date(today.year, month, day)
    except ValueError:
        return None
    if this_year <= today:
        return this_year
    if (this_year - today).days <= 62:
        raise _Future
    try:
        return date(today.year - 1, month, day)
    except ValueError:
        return None


def _int(token: str) -> int | None:
    value = _numerals.first_number(token)
    return None if value is None or value != int(value) else int(value)


def _weekday(today: date, weekday: int, weeks_back: int, calendar: bool) -> date | None:
    """A weekday: ``calendar`` weeks (上周六, 지난주 토요일: Monday-start weeks) or the most recent one
    ("Saturday", "last Saturday"); None when it could be today or a week ago, or yesterday or a week before."""
    if calendar:
        monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks_back)
        found = monday + timedelta(days=weekday)
        if found > today:
            raise _Future
        if weekday == 6 and weeks_back:  # a Sunday: some count weeks from Sunday, some from Monday
            return None
        return found
    back = (today.weekday() - weekday) % 7
    if weeks_back and back == 0:
        back = 7  # "last Tuesday" said on a Tuesday
    if back == 0 or (weeks_back and back == 1):
        return None  # "Tuesday" said on a Tuesday; "last Monday" said on a Tuesday: yesterday, or the week before?
    return today - timedelta(days=back + 7 * max(weeks_back - 1, 0))


_LAST_MONTH = re.compile(r"(?:上个?月|上月|지난\s*달|지난달|last month|of last month)")
_WEEKS_AGO = re.compile(r"(?:exactly\s+)?(一|1|one|a|两|2|two|일|이|두|한)\s*(?:个|個)?\s*(?:周|星期|礼拜|weeks?|주일?)\s*(?:前|ago|전)"
                        r"\s*(?:的?今天|today|오늘)|exactly\s+(a|one)\s+week\s+ago")
_FUTURE_WORDS = re.compile(r"明天|后天|下周|下个|下星期|将要|要到|tomorrow|next\s|will\s|going to|내일|모레|다음\s*주|할\s*거|올\s*거")


def _candidates(norm: str, today: date, language: str | None) -> set[date | None]:
    found: set[date | None] = set()
    for m in _ISO.finditer(norm):
        found.add(_past(today, int(m[2]), int(m[3]), int(m[1])))
    rest = _ISO.sub(" ", norm)
    for m in _CJK_MD.finditer(rest):
        day_text = m[2][:-1] if len(m[2]) > 1 and m[2].endswith("일") else m[2]
        month, day = _int(m[1]), _int(day_text)
        found.add(_past(today, month, day) if month and day else None)
    rest = _CJK_MD.sub(" ", rest)
    for regex, mi, di in ((_EN_MD, 1, 2), (_EN_DM, 2, 1)):
        for m in regex.finditer(rest):
            if m[mi] in _MONTHS:
                found.add(_past(today, _MONTHS[m[mi]], int(m[di])))
                rest = rest.replace(m.group(0), " ")
    for m in _SLASH.finditer(rest):
        a, b = int(m[1]), int(m[3])
        if language in ("en", "ko") and a <= 12 and b <= 12 and a != b:
            found.add(None)  # 3/8: March 8 or 3 August? Asked again
        else:
            found.add(_past(today, a, b))
    rest = _SLASH.sub(" ", rest)
    for m in _AGO.finditer(rest):
        word = m[1].isascii() and m[1].isalpha()
        days = _numerals._EN_SMALL.get(m[1]) if word else _int(m[1])
        found.add(today - timedelta(days=days) if days is not None and days < 400 else None)
    rest = _AGO.sub(" ", rest)
    for m in _KO_DAYS_AGO.finditer(rest):
        found.add(today - timedelta(days=_KO_NATIVE_DAYS[m[1]]))
    rest = _KO_DAYS_AGO.sub(" ", rest)
    for m in _WEEKS_AGO.finditer(rest):
        weeks = 1 if (m[1] or m[2]) in ("一", "1", "one", "a", "일", "한") else 2
        found.add(today - timedelta(weeks=weeks))
    rest = _WEEKS_AGO.sub(" ", rest)
    for words, back in _RELATIVE:
        for w in words:
            if w in rest:
                found.add(today - timedelta(days=back))
                rest = rest.replace(w, " ")
    for m in _ZH_WEEKDAY.finditer(rest):
        prefix = m[1] or ""
        weeks = 2 if rest[max(0, m.start() - 1):m.start()] == "上" and prefix.startswith("上") else int(prefix.startswith("上"))
        found.add(_weekday(today, _WEEKDAYS[m[2]], weeks, calendar=bool(prefix)))
    for m in _EN_WEEKDAY.finditer(rest):
        after = rest[m.end():m.end() + 12]
        if "before last" in after:
            found.add(_weekday(today, _EN_DAYS.index(m[2]), 2, calendar=False) and
                      today - timedelta(days=(today.weekday() - _EN_DAYS.index(m[2])) % 7 or 7) - timedelta(weeks=1))
        elif "last week" in after or rest[max(0, m.start() - 10):m.start()].strip().endswith("last week"):
            found.add(_weekday(today, _EN_DAYS.index(m[2]), 1, calendar=True))
        else:
            found.add(_weekday(today, _EN_DAYS.index(m[2]), int(m[1] in ("last", "past", "this past")),
                               calendar=False))
    for m in _KO_WEEKDAY.finditer(rest):
        calendar = bool(re.search(r"(?:지난|저번|이번)\s*주", rest[max(0, m.start() - 6):m.end()]))
        weeks = 0 if m[1] == "이번" else int(bool(m[1]))
        found.add(_weekday(today, _KO_DAYS.index(m[2]), weeks, calendar=calendar))
    last_month = bool(_LAST_MONTH.search(rest))
    for m in _DAY_ONLY.finditer(rest):
        day = _int(next(g for g in m.groups() if g))
        if not day:
            continue
        if last_month:
            prev = today.replace(day=1) - timedelta(days=1)
            found.add(_past(today, prev.month, day, prev.year))
        elif day > today.day:
            found.add(None)  # "25号" on the 10th: last month's, or a slip? Asked again
        else:
            found.add(today.replace(day=day))
    return found


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


def _english_words_to_digits(norm: str) -> str:
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


def read_date(text: str, today: date, language: str | None = None) -> Reading:
    """A calendar date: 2026-02-03, 二月三号, 3.8, Feb 3, 昨天, 上周六, last Saturday, 3 days ago, 8号."""
    norm = _english_words_to_digits(fold(text))
    if not norm:
        return NONE
    if CONSECUTIVE.search(norm) or re.search(r"[0-9一二三四五六七八九十]\s*[到至~或\-]\s*[0-9一二三四五六七八九十]+\s*(?:号|日|天)", norm):
        return Reading("ambiguous")
    unqualified = _EN_WEEKDAY_WEEK.sub(" ", norm)
    if _FUTURE_WORDS.search(norm) or _VAGUE.search(unqualified) or _DEPARTED.search(norm):
        return Reading("ambiguous")
    if re.search(r"\b(?:or|either)\b|或|还是|、|아니면|이나\s|인가", norm) and len(_numerals.numbers_in(norm)) > 1:
        return Reading("ambiguous")
    try:
        found = _candidates(norm, today, language)
    except _Future:
        return Reading("ambiguous")
    if not found:
        return Reading("question") if is_question(norm) else NONE
    if None in found or len(found) > 1 or any(d is not None and d > today for d in found):
        return Reading("ambiguous")
    if is_question(norm):
        return Reading("question")
    (day,) = found
    return Reading("hedged" if has_hedge(norm) else "value", day)
