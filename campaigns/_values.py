"""Readers for temperatures, counts and dates, precision first (see ``campaigns.reading``).

Every number in the reply is found, not just the first. One value is read plainly; a hedge ("大概", "about",
"정도") asks for a confirmation; a range ("36到37之间", "两三个"), an approximation ("一百多", "over 100") or two
different values are ambiguous, unless the words around them say which one is meant ("昨天37今天36.8": today's).
"""

from __future__ import annotations

import re
from itertools import pairwise

from campaigns import _numerals
from campaigns.reading import NONE, Reading, fold, has_hedge, is_question, refuses, says_unknown

__all__ = ["APPROX", "CONSECUTIVE", "read_count", "read_temperature"]

BODY = (30.0, 45.0)
_DEGREE_SPLIT = re.compile(
    r"(?P<int>[0-9零〇一二两三四五六七八九十百]+)\s*(?:度|도)\s*(?P<dec>[0-9零〇一二三四五六七八九]|半|반)(?![0-9十百])"
)
_F_AFTER = re.compile(r"^\s*(?:°\s*f\b|℉|f\b|degrees? f|fahrenheit|华氏|화씨)")
_F_ANY = re.compile(r"fahrenheit|华氏|화씨|℉|°\s*f\b")
_C_MARK = re.compile(r"度|도|°|℃|celsius|degree|c\b")
_HALF_AFTER = re.compile(r"^\s*(?:度|도|degrees?)?\s*(?:半|반|and a half|and half)")
_RANGE_BETWEEN = re.compile(r"^\s*(?:度|도|degrees?|个|人|명)?\s*(?:到|至|~|-|–|或者|或|还是|跟|和|or|to|and|에서|~|내지|或是|/)\s*$")
CONSECUTIVE = re.compile(r"(?:一两|一二|两三|二三|三四|四五|五六|六七|七八|八九)(?:十|百|千|万|个|人|天|度)?")
APPROX = re.compile(
    r"[0-9零〇一二两三四五六七八九十百千万度点][多余来几]|点几|多一点|好几|几十|几百|几千|十几|上百|上千|上万|成百|数百|数千|不到|不足|以上|以下"
    r"|百分之|%|\bpercent\b|퍼센트|프로\b|不超过|超过|低于|高于|近千|近百|将近|接近|快到|一半|一多半|大半|\d\s*\+|~\s*\d|≈|<|>"
    r"|\b(?:over|more than|less than|under|below|above|at least|at most|almost|nearly|several|a few|few|dozens"
    r"|hundreds|thousands|couple|a couple|some|something|odd|plus|and a bit|a bit over|a bit under|half of|or so)\b"
    r"|\d+ish\b|\d+s\b|平时|平常|一般|通常|\b(?:usually|normally|typically)\b|보통|평소|가까이|이상|미만|이하|넘|여\s*명|몇|안\s*[되돼]|남짓|가량|별로|절반|반\s*정도|^한\s+(?!사람|명|분|개)[0-9일이삼사오육칠팔구십백천두세네다섯여섯일곱여덟아홉열스물서른마흔쉰]"
)
#: Someone else's value ("孩子37.2", "my husband did"), or one still to come ("稍等", "wait"): ask again.
_OTHER = re.compile(r"孩子|小孩|老公|老婆|爱人|儿子|女儿|孙子|孙女|外孙|我妈|我爸|妈妈|爸爸|老伴|家人|他|她"
                    r"|\b(?:my (?:wife|husband|son|daughter|kid|kids|child|mother|father|mum|mom|dad|partner)|he|she)\b"
                    r"|아이|애가|남편|아내|와이프|엄마|아빠|아들|딸|손자|손녀")
_WAIT = re.compile(r"稍等|等一下|等等|等会|我去量|我量一下|\b(?:wait|hold on|hang on|one sec|let me check)\b|잠깐|잠시만")
_CORRECTED = re.compile(r"^\W*(?:wait,?\s*no|no,?\s*wait|sorry(?:,?\s*typo)?|i mean|actually|不对|哦不|噢不|说错了|应该是"
                        r"|아니|아\s*아니다|아니다)\W*$")
_NOW = re.compile(r"今天|今日|今早|今晨|现在|刚才|刚刚|刚量|刚测|目前|这会|today|now|this morning|just|currently|오늘|지금|방금")
_BEFORE = re.compile(r"昨天|昨日|昨晚|前天|上次|之前|以前|前几天|yesterday|last night|before|earlier|어제|그제|그저께|저번")


def _prepared(text: str) -> str:
    norm = _numerals.prepare(fold(text))

    def joined(m: re.Match[str]) -> str:
        whole = _numerals.first_number(m["int"])
        dec = 5 if m["dec"] in ("半", "반") else _numerals.first_number(m["dec"])
        return f"{int(whole)}.{int(dec)}度" if whole is not None and dec is not None else m.group(0)

    return _DEGREE_SPLIT.sub(joined, norm)


def _ranged(norm: str, spans: list[tuple[int, int, float]]) -> bool:
    if CONSECUTIVE.search(norm):
        return True
    return any(_RANGE_BETWEEN.match(norm[a[1]:b[0]]) for a, b in pairwise(spans))


def _pick(norm: str, spans: list[tuple[int, int, float]]) -> Reading:
    """One value among several: the one said as "today / now", when all others are said as "before"."""
    values = {s[2] for s in spans}
    if len(values) == 1:
        return Reading("hedged" if has_hedge(norm) else "value", spans[0][2])
    if len(spans) == 2 and _CORRECTED.search(norm[spans[0][1]:spans[1][0]]):
        return Reading("value", spans[1][2])  # "36.6 wait no 36.8", "36.5 아니 36.7이요": the corrected one
    now, before = [], 0
    words_after = not norm[:spans[0][0]].strip()  # "37.1 yesterday, 36.7 today": the time is said after
    for i, span in enumerate(spans):
        if words_after:
            label = norm[span[1]:(spans[i + 1][0] if i + 1 < len(spans) else len(norm))]
        else:
            label = norm[(spans[i - 1][1] if i else 0):span[0]]
        if _NOW.search(label):
            now.append(span)
        elif _BEFORE.search(label):
            before += 1
    if len(now) == 1 and before == len(spans) - 1:
        return Reading("hedged" if has_hedge(norm) else "value", now[0][2])
    if not now and before == len(spans) - 1 and len(spans) == 2 and not words_after:
        return Reading("hedged" if has_hedge(norm) else "value", spans[0][2])  # "三十六度五，昨天三十七度"
    return Reading("ambiguous")


def read_temperature(text: str) -> Reading:
    """A body temperature in °C: 三十七度五, 37度5, 36,8, "37 and a half", 98.6F (converted)."""
    norm = _prepared(text)
    if not norm:
        return NONE
    spans = _tenths(norm, _numerals.numbers_in(norm))
    if says_unknown(norm) and not any(BODY[0] <= v <= BODY[1] for _, _, v in spans):
        return Reading("unknown")  # "没量" (but "昨天没量，今天36.5" gives today's)
    if not spans:
        return Reading("question") if is_question(norm) else NONE
    if _OTHER.search(norm) or _WAIT.search(norm) or re.search(r"(?:^|[^\d/])-\s*\d", norm):
        return Reading("ambiguous")
    fahrenheit_said = bool(_F_ANY.search(norm))
    guessed_f = False
    body: list[tuple[int, int, float]] = []
    for start, end, value in spans:
        if _HALF_AFTER.match(norm[end:]) and value == int(value):
            value += 0.5
        if _F_AFTER.match(norm[end:]) or (fahrenheit_said and 86 <= value <= 113):
            value = round((value - 32) * 5 / 9, 1)
        elif not _C_MARK.search(norm) and 93 <= value <= 108:  # nobody has 93 °C: Fahrenheit
            guessed_f = True  # 98.6 is most likely Fahrenheit, but unusual here: confirmed before it is stored
            value = round((value - 32) * 5 / 9, 1)
        if BODY[0] <= value <= BODY[1]:
            body.append((start, end, value))
    if not body:  # "50度": a number, out of range for a body: the caller says the range
        if len(spans) == 1 and not APPROX.search(norm):
            return Reading("value", spans[0][2])
        return Reading("ambiguous")
    # "我八十多了，…，三十六度六": only the words of the clauses that hold a value count
    near = [m.group(0) for m in re.finditer(r"[^,，。;；!！]+", norm)
            if any(m.start() <= a < m.end() for a, _, _ in body)]
    if _ranged(norm, body) or CONSECUTIVE.search(norm) or any(APPROX.search(w) for w in near):
        return Reading("ambiguous")
    value_clause = near[0] if near else norm
    if is_question(value_clause) and not value_clause.rstrip().endswith("?"):
        return Reading("question")  # "有没有37度？" (but "37.3，是不是发烧了" gives its value first)
    reading = _pick(norm, body)
    if reading.kind == "value" and (value_clause.rstrip().endswith("?") or guessed_f):
        return Reading("hedged", reading.value)  # "37.5?": said unsure; "100": Fahrenheit, most likely
    return reading


_TENTH_GAP = re.compile(r"^\s*(?:度|도|degrees?|point|쩜|점)?\s*$")


def _tenths(norm: str, spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """"thirty six five", "삼십육 도 칠 부", "三十六度 五": a whole degree then one digit is its tenth."""
    out: list[tuple[int, int, float]] = []
    for span in spans:
        if out:
            start, end, whole = out[-1]
            digit = span[2]
            if (34 <= whole <= 43 and whole == int(whole) and digit == int(digit) and 0 <= digit <= 9
                    and span[1] - span[0] <= 5 and _TENTH_GAP.match(norm[end:span[0]])):
                out[-1] = (start, span[1], whole + digit / 10)
                continue
        out.append(span)
    return out


_ZERO = re.compile(
    r"^(?:一个都没有|一个也没有|一个人都没有|一个人也没有|没有人|没人|没有|没|无|零|都没有|一个没有|none|nobody|no one"
    r"|zero|nil|not one|not a single one|no|nope|한 명도 없|아무도 없|없어요|없습니다|없음|없어|영|0)$"
)


_ZERO_LEAD = re.compile(
    r"^(?:一个都没|一个也没|一个人都没|一个人也没|一人都没|没有人|没人|都没有|一个没有|没有|无|零个?|none|nobody|no one|zero"
    r"|not a single one|not one|not a single|not any|no staff|no employees|no people|not a soul|한\s*명도\s*없|한\s*사람도\s*없|하나도\s*없"
    r"|아무도\s*없|없어요|없습니다|없음|없어|영\s*명|영이요|영입니다|영(?![가-힣]))"
)
_CONTEXT_NUMBERS = re.compile(r"(?:14|十四|fourteen|십사)\s*(?:天|days?|일)|(?:two|2|两)\s*(?:weeks?|周)")


def read_count(text: str) -> Reading:
    """A count of people or things: 一千二 (1200), 两千三百, 1,200, "twelve hundred", 천이백 명, 没有 (0)."""
    norm = _prepared(text)
    if not norm:
        return NONE
    if refuses(norm) or says_unknown(norm) or _UNSURE_COUNT.search(norm):
        return Reading("ambiguous")  # "无可奉告", "没有统计", "nobody knows": no count given
    lead = re.sub(r"^(?:嗯|呃|额|哦|um|uh|well|er)[,\s]*", "", norm)
    if _ZERO_LEAD.match(lead) and _only_people_words(_ZERO_LEAD.sub(" ", lead, count=1)):
        rest = _numerals.numbers_in(_CONTEXT_NUMBERS.sub(" ", _ZERO_LEAD.sub(" ", lead, count=1)))
        if not rest and not APPROX.search(lead):
            return Reading("hedged" if has_hedge(lead) else "value", 0.0)
    spans = _numerals.numbers_in(norm)
    if not spans:
        if _ZERO_ANYWHERE.search(norm) and _only_people_words(_ZERO_ANYWHERE.sub(" ", norm)) \
                and not APPROX.search(norm) and not is_question(norm):
            return Reading("hedged" if has_hedge(norm) else "value", 0.0)  # "all local, none from outside", "외성 사람 없어요"
        return Reading("question") if is_question(norm) else NONE
    if len(spans) == 2 and _CORRECTED.search(_UNIT_GAP.sub("", norm[spans[0][1]:spans[1][0]])):
        return Reading("value", spans[1][2])  # "5, no wait, 6", "120명 아니 130명"
    if _ranged(norm, spans) or APPROX.search(norm) or _WAIT.search(norm):
        return Reading("ambiguous")
    if re.search(r"(?:^|[^\d])-\s*\d", norm):
        return Reading("ambiguous")
    if is_question(norm):
        return Reading("question")
    return _pick(norm, spans)


_UNSURE_COUNT = re.compile(r"统计|不知道|不清楚|不确定|没数|数不清|知道|\b(?:knows?|sure|idea|count(?:ed)?|clue)\b|모르|몰라|정보")
_PEOPLE = re.compile(
    r"[的了是都也啊呀吧人个位名员工从来回外省地本市里边面其中没有,.，。!！\s]|员工|职工|工人|外省|外地|本地|当地|其他省份?|省外"
    r"|\b(?:all|local|locals|staff|people|employees|workers|from|outside|other|provinces?|the|of|them|here|our|in|we"
    r"|are|is|none|came|back|returned|province|city|at|to|last|past|days?|weeks?|recently|in)\b"
    r"|最近|十四天|两周|사람|직원|외성|외지|본지|에서|온|은|는|이|가|다|요|도|모두|없어요|없습니다|어요|습니다|음|어"
)


def _only_people_words(rest: str) -> bool:
    """True when what is left beside a zero ("没有", "none") only says who: "外省的一个都没有", "all local"."""
    rest = _CONTEXT_NUMBERS.sub(" ", rest)
    return not _PEOPLE.sub("", rest).strip()


_UNIT_GAP = re.compile(r"^\s*(?:명|人|个|位|people|staff)")
_ZERO_ANYWHERE = re.compile(r"\b(?:none|nobody|no one|zero|nil)\b|没有人|没人|一个都没|一个也没|제로|(?<![가-힣])없(?:어요|습니다|슴다|는데요|음|어)$"
                            r"|사람\s*(?:도\s*)?없|아무도\s*없")
