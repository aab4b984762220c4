"""The date reader, precision first (see ``campaigns.reading``).

One date is read plainly; a hedge asks for a confirmation; two dates ("7、8号", "the 5th or 6th"), a date still to
come (an arrival has happened), a vague one ("前几天", "last week") or one that could be read two ways ("3/8" in
English or Korean, "last Monday" said on a Tuesday) is asked again.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from campaigns import _numerals
from campaigns._date_words import ARRIVED, english_words_to_digits, holiday
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
_SLASH = re.compile(r"(?<![\d/.-])(\d{1,2})\s*([/.-])\s*(\d{1,2})(?![\d/-])(?!\.\d)")
_YY_MD = re.compile(r"(?<![\d.])(\d{2})\.(\d{1,2})\.(\d{1,2})(?![\d.])")
_AGO = re.compile(rf"({_NUM}|[a-z]+)\s*(?:天前|天之前|日前|일\s*전|days?\s+ago)")
_DAY_ONLY = re.compile(rf"(?:^|[^0-9월])({_NUM})\s*(?:号|號|日|일|호)(?![a-z전])|\bthe\s+(\d{{1,2}})(?:st|nd|rd|th)\b"
                       rf"|\bon\s+the\s+(\d{{1,2}})(?:st|nd|rd|th)?\b|^(\d{{1,2}})(?:st|nd|rd|th)$")
_KO_NATIVE_DAYS = {"하루": 1, "이틀": 2, "사흘": 3, "나흘": 4, "닷새": 5, "엿새": 6, "이레": 7, "열흘": 10}
_KO_DAYS_AGO = re.compile(r"(하루|이틀|사흘|나흘|닷새|엿새|이레|열흘)\s*(?:전|前)")
_RELATIVE = [
    (("大前天", "大前儿", "three days ago", "그끄저께", "그끄제", "그그저께"), 3),
    (("前天", "day before yesterday", "그저께", "그제"), 2),
    (("前儿个", "前儿", "前日", "그제"), 2),
    (("昨天", "昨日", "昨晚", "昨儿个", "昨个儿", "昨儿", "琴日", "寻日", "作天", "咋天", "昨夜", "yesterday", "last night",
      "어제", "어젯밤", "어저께", "어재"), 1),
    (("今天", "今日", "今早", "今儿个", "今儿", "刚到", "刚下", "刚刚到", "today", "this morning", "오늘", "방금", "지금 막",
      "막 왔", "막 도착"), 0),
]
_WEEKDAYS = {**{w: i for i, w in enumerate(("一", "二", "三", "四", "五", "六", "日"))}, "天": 6}
_ZH_WEEKDAY = re.compile(r"(上个?|这个?|本)?\s*(?:周|星期|礼拜)([一二三四五六日天])")
_EN_WEEKDAY = re.compile(r"\b(last|this past|this|on|past)?\s*(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b")
_KO_WEEKDAY = re.compile(r"(지난|저번|이번)?\s*(?:주\s*)?([월화수목금토일])(?:요일|욜)")
_EN_WEEKDAY_WEEK = re.compile(r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\s+(?:of\s+)?last week"
                              r"|last week'?s?\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)")
_EN_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_KO_DAYS = "월화수목금토일"
_OTHER_YEAR = re.compile(r"去年|前年|明年|后年|\b(?:last|next) year\b|\byear before\b|작년|재작년|내년|지난해")
_DEPARTED = re.compile(r"出发|动身|离开|走的|\b(?:left|departed|set off)\b|출발|떠났")
_VAGUE = re.compile(r"半夜十二点|午夜十二点|夜里十二点|\bmidnight\b|자정|前两天|几号|点几|엊그제|엊그저께|며칠(?!\s*전)|前几天|这几天|那几天|上个?月(?!\s*(?:[0-9一二三四五六七八九十]+\s*[号日]|最后一天))|上周(?![一二三四五六日天])"
                    r"|上星期(?![一二三四五六日天])|最近|前阵子|不久前"
                    r"|\b(?:a few days|few days|couple of days|last week|last month|recently|the other day|a while)\b"
                    r"|며칠 전|얼마 전|지난주(?!\s*[월화수목금토일])|지난\s*달(?!\s*(?:\d+\s*일|마지막))|최근")


def _candidates_safe(norm: str, today: date, language: str | None) -> set[date | None]:
    try:
        return _candidates(norm, today, language)
    except _Future:
        return {None}


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


def _weekday(today: date, weekday: int, weeks_back: int, calendar: bool, sunday_unclear: bool = False) -> date | None:
    """A weekday: ``calendar`` weeks (上周六, 지난주 토요일: Monday-start weeks) or the most recent one
    ("Saturday", "last Saturday"); None when it could be today or a week ago, or yesterday or a week before."""
    if calendar:
        monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks_back)
        found = monday + timedelta(days=weekday)
        if found > today:
            raise _Future
        if weekday == 6 and weeks_back and sunday_unclear:  # 지난주 일요일: weeks from Sunday or from Monday?
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
        if language == "en" and a <= 12 and b <= 12 and a != b:
            found.add(None)  # 3/8: March 8 or 3 August? Asked again
        else:
            said = _past(today, a, b)
            found.add(said if said is not None and (today - said).days <= 120 else None)  # 8/3 in March: 3 Aug?
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
    explicit = {d for d in found if d is not None}
    weekdays: set[date | None] = set()
    for m in _ZH_WEEKDAY.finditer(rest):
        prefix = m[1] or ""
        weeks = 2 if rest[max(0, m.start() - 1):m.start()] == "上" and prefix.startswith("上") else int(prefix.startswith("上"))
        weekdays.add(_weekday(today, _WEEKDAYS[m[2]], weeks, calendar=bool(prefix)))
    for m in _EN_WEEKDAY.finditer(rest):
        after = rest[m.end():m.end() + 12]
        if "before last" in after:
            weekdays.add(_weekday(today, _EN_DAYS.index(m[2]), 2, calendar=False) and
                      today - timedelta(days=(today.weekday() - _EN_DAYS.index(m[2])) % 7 or 7) - timedelta(weeks=1))
        elif "last week" in after or rest[max(0, m.start() - 10):m.start()].strip().endswith("last week"):
            weekdays.add(_weekday(today, _EN_DAYS.index(m[2]), 1, calendar=True))
        else:
            weekdays.add(_weekday(today, _EN_DAYS.index(m[2]), int(m[1] in ("last", "past", "this past")),
                               calendar=False))
    for m in _KO_WEEKDAY.finditer(rest):
        calendar = bool(re.search(r"(?:지난|저번|이번)\s*주", rest[max(0, m.start() - 6):m.end()]))
        weeks = 0 if m[1] == "이번" else int(bool(m[1]))
        weekdays.add(_weekday(today, _KO_DAYS.index(m[2]), weeks, calendar=calendar, sunday_unclear=True))
    if explicit and weekdays:  # "3月2日 星期一": the weekday only checks the date
        named = {d.weekday() for d in weekdays if d is not None}
        if any(d.weekday() not in named for d in explicit) and named:
            found.add(None)
    else:
        found |= weekdays
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


def read_date(text: str, today: date, language: str | None = None) -> Reading:
    """A calendar date: 2026-02-03, 二月三号, 3.8, Feb 3, 昨天, 上周六, last Saturday, 3 days ago, 8号."""
    norm = english_words_to_digits(fold(text))
    if not norm:
        return NONE
    if CONSECUTIVE.search(norm) or re.search(r"[0-9一二三四五六七八九十]\s*[到至~或\-]\s*[0-9一二三四五六七八九十]+\s*(?:号|日|天)", norm):
        return Reading("ambiguous")
    parts = [c for c in re.split(r"[,，。;；]", norm) if c.strip()]
    arrived = [c for c in parts if ARRIVED.search(c)]
    if len(parts) > 1 and len(arrived) == 1:  # "3月1号出发，3月2号到": the day of arrival
        return read_date(arrived[0], today, language)
    feast = holiday(norm, today)
    if feast is not None and re.search(r"(?:节|夕|春节|初[一二三四五六七八九十]|十五|元旦|国庆)\s*(?:前|后|左右|前后|期间)", norm):
        return Reading("ambiguous")  # "春节前": before it, when?
    if feast is not None and not _candidates_safe(norm, today, language):
        return Reading("hedged" if has_hedge(norm) else "value", feast)
    yy = _YY_MD.search(norm)
    if yy:
        norm = _YY_MD.sub(lambda m: f"20{m[1]}-{m[2]}-{m[3]}", norm)
    if _OTHER_YEAR.search(norm):
        return Reading("ambiguous")  # "去年三月一号": a year ago is no arrival to screen; asked again
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
