"""Decide one answer to one question, whether typed, spoken or keyed (DTMF)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from campaigns._dates import read_date
from campaigns._values import read_count, read_temperature
from campaigns._yesno import read_yes_no
from campaigns.questionnaire import Question
from campaigns.reading import Reading, fold, has_hedge, is_question

__all__ = ["HEDGED", "REASONS", "UNKNOWN", "Accepted", "NluHints", "Rejected", "Result", "interpret"]

REASONS = ("unintelligible", "out_of_range", "not_an_option", "empty", "ambiguous", "question")
#: The confidence of a hedged reading ("大概三十七度", "maybe"): below every question's ``confirm_below``
#: default, so the engine asks "您说的是37，对吗？" instead of storing it.
HEDGED = 0.5
#: A yes / no the words did not say but the NLU classifier is this sure of: confirmed, never stored as is.
NLU_YES_NO_MIN = 0.8
UNKNOWN = "unknown"
_INTENT_VALUES = {"affirm": "yes", "deny": "no", "not_sure": "not_sure", "dont_know": "not_sure"}
_KEYPAD_YES_NO = {"1": "yes", "2": "no", "3": "not_sure"}
_KEYPAD_NUMBER = re.compile(r"^(\d+)(?:\*(\d+))?#?$")
_PUNCT = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NluHints:
    """What an NLU (Rasa) made of the text: intent, its confidence, entities."""

    intent: str | None = None
    confidence: float = 0.0
    entities: Sequence[Mapping[str, Any]] = field(default_factory=tuple)

    def entity(self, *names: str) -> Any:
        """The value of the first entity named one of ``names`` (in that order), or None."""
        for name in names:
            for ent in self.entities:
                if ent.get("entity") == name and ent.get("value") not in (None, ""):
                    return ent["value"]
        return None


@dataclass(frozen=True)
class Accepted:
    """A valid answer: the value to store, the raw input, how sure we are of it."""

    value: Any
    raw: str
    confidence: float = 1.0


@dataclass(frozen=True)
class Rejected:
    """An answer that cannot be stored; ``reason`` is one of REASONS."""

    reason: str


Result = Accepted | Rejected


def _clean(text: str) -> str:
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return _PUNCT.sub("", text)[:500]


def interpret(question: Question, text: str, language: str, hints: NluHints | None = None,
              today: date | None = None, *, keypad: bool = False) -> Result:
    """Read ``text`` as an answer to ``question`` (same rules for chat, speech and keypad)."""
    raw = text or ""
    if not _clean(raw):
        return Rejected("empty")
    hints = hints or NluHints()
    if question.type in ("yes_no", "yes_no_unsure"):
        return _yes_no(question, raw, language, hints, keypad)
    if question.type == "number":
        return _number(question, raw, hints, keypad)
    if question.type == "choice":
        return _choice(question, raw, keypad)
    if question.type == "date":
        return _from_reading(question, read_date(raw, today or date.today(), language), raw)
    return _free_text(question, raw)


def _from_reading(question: Question, reading: Reading, raw: str) -> Result:
    if reading.kind == "value":
        return Accepted(reading.value.isoformat() if isinstance(reading.value, date) else reading.value, raw)
    if reading.kind == "hedged":
        value = reading.value.isoformat() if isinstance(reading.value, date) else reading.value
        return Accepted(value, raw, HEDGED)
    if reading.kind == "unknown" and question.allow_unknown:
        return Accepted(UNKNOWN, raw)
    if reading.kind in ("ambiguous", "question"):
        return Rejected(reading.kind)
    return Rejected("unintelligible")


_NON_ANSWER = re.compile(
    r"^(?:不知道|不记得|记不清|忘了|忘记了|不清楚|不告诉你|保密|没有|没|无|不|是|对|嗯|有|好的?|ok|okay|yes|no|nope|idk"
    r"|dunno|don't know|not sure|no idea|none|nowhere|secret|네|예|아니요|아뇨|몰라요|모르겠어요|없어요)$"
    r"|不知道|不记得|记不清|忘了|不清楚|\bdon't know\b|\bdunno\b|\bno idea\b|\bcan't remember\b|모르겠|기억이 안|기억 안"
)
#: A place too vague to find anyone by ("外地", "老家", "abroad", "somewhere in the south", "a hotel"), or two
#: places ("上海或者苏州"): asked again.
_VAGUE_PLACE = re.compile(
    r"^(?:外地|老家|国外|乡下|农村|南方|北方|外省|外面|附近|家里|在家|家|酒店|宾馆|朋友家|亲戚家|医院|机场|火车站|单位|公司|到处|好几个地方"
    r"|几个地方|很多地方|一个小地方|一个小城市|一个城市|山里|海边|这里|这边|本地|本市|同上|和之前一样|一样|保密|不方便说|隐私)$"
    r"|某个|某地|附近的|的附近|好几个|几个地方|到处|一些地方|不说了|不想说|不方便|保密|隐私|没去哪|哪也没去|哪儿也没去|没有去哪"
    r"|或者|还是|要么|和.{1,6}都去|先.{1,8}再|然后又?去|\b(?:somewhere|abroad|hometown|countryside|seaside|mountains?|a few places"
    r"|several places|different places|all over|here and there|not telling|rather not|private|secret|the usual|same as|"
    r"i'll text|i will text|near (?:the|a|my)|a (?:small )?(?:city|town|village|hotel|place)|my (?:friend|relative|"
    r"parent|family)'?s?|the (?:north|south|east|west|airport|station|hospital|city cent(?:re|er))|up north|down south"
    r"|back east|out west|didn't go|did not go|nowhere|or|and before that|then)\b|^(?:home|at home|here|there|"
    r"my place|around|outside|out of town|out of the city|out of province)$|여기저기|몇 군데|시골|친척집|친구\s*집|병원|남쪽|북쪽"
    r"|비밀|어딘가|외국|해외|고향|하고\s|이랑|인가\s|아니면"
)
_NOT_PLACE = re.compile(r"\d+\s*(?:days?|天|일)|\bby (?:train|plane|car|bus)\b|坐(?:火车|飞机|高铁)|^(?:昨天|今天|yesterday|today)$")
_PLACE_HEDGE = re.compile(r"^(?:好像是|应该是|大概是|可能是|估计是|好像|应该|大概|可能|i think|maybe|probably|아마)\s*"
                          r"|\s*(?:吧|来着|i think|maybe|인 것 같아요|인 거 같아요|같아요)$")


def _free_text(question: Question, raw: str) -> Result:
    """A place or a free text: the whole answer, unless it is no answer ("不知道", "?", a bare yes)."""
    norm = fold(raw)
    cleaned = _clean(raw)
    if _NON_ANSWER.search(fold(cleaned)):
        return Rejected("unintelligible")
    if is_question(norm) and (norm.endswith("?") or question.type == "place"):
        return Rejected("question")
    if question.type == "place" and (_VAGUE_PLACE.search(fold(cleaned)) or _NOT_PLACE.search(fold(cleaned))):
        return Rejected("ambiguous")
    hedged = question.type == "place" and bool(_PLACE_HEDGE.search(cleaned.lower()))
    if hedged:
        cleaned = _PLACE_HEDGE.sub("", cleaned).strip() or cleaned
    value = _strip_place_framing(cleaned) if question.type == "place" else cleaned
    if not any(ch.isalnum() for ch in value):
        return Rejected("unintelligible")
    return Accepted(value, raw, HEDGED if hedged else 1.0)


_PLACE_BEFORE = re.compile(
    r"^(?:我|我们)?(?:是)?(?:从|来自|去了|去过|到了|到过|在|住在|住)\s*"
    r"|^(?:i|we)?\s*(?:came|come|am|'m|was|went|have been|travelled|traveled|stay(?:ed|ing)?|live)?\s*"
    r"(?:back\s+)?(?:from|to|in|at)\s+",
    re.IGNORECASE,
)
_PLACE_AFTER = re.compile(
    r"(?:回来的|回来|过来的|过来|来的|来|去的|的)$"
    r"|\s*(?:에서\s*(?:왔어요|왔습니다|왔음|왔다|온\s*거예요|와요|요)?|에\s*(?:다녀왔어요|다녀왔습니다|갔다\s*왔어요|갔었어요|갔어요"
    r"|있어요|살아요|삽니다|머물러요)|(?:이|)요|입니다|이에요|예요)$"
)


def _strip_place_framing(text: str) -> str:
    """"我从武汉来的" -> "武汉", "I came back from Beijing" -> "Beijing"; an address stays whole.

    The whole answer is the value (an address must not be cut to a district); only the words that frame a
    place in speech are taken off, and never so much that nothing is left.
    """
    inner = _PLACE_AFTER.sub("", _PLACE_BEFORE.sub("", text, count=1)).strip()
    return inner if any(ch.isalnum() for ch in inner) else text


def _yes_no(question: Question, raw: str, language: str, hints: NluHints, keypad: bool) -> Result:
    if keypad:
        value = _KEYPAD_YES_NO.get(raw.strip().rstrip("#"))
        return Rejected("unintelligible") if value is None else _unsure_allowed(question, Accepted(value, raw))
    reading = read_yes_no(raw, echo=question.prompt.values(), frame=question.prompt.get(language, ""))
    if reading.kind == "none" and hints.intent in _INTENT_VALUES and hints.confidence >= NLU_YES_NO_MIN:
        reading = Reading("hedged", _INTENT_VALUES[hints.intent])  # the words did not say it: confirm first
    result = _from_reading(question, reading, raw)
    return _unsure_allowed(question, result) if isinstance(result, Accepted) else result


def _unsure_allowed(question: Question, result: Accepted) -> Result:
    if result.value == "not_sure" and question.type == "yes_no":
        return Rejected("not_an_option")
    return result


def _number(question: Question, raw: str, hints: NluHints, keypad: bool) -> Result:
    if keypad:
        m = _KEYPAD_NUMBER.match(raw.strip())
        if not m:
            return Rejected("unintelligible")
        value = float(f"{m[1]}.{m[2] or 0}")
        if m[2] is None:
            value = _implied_decimal(question, value)
        return _in_range(question, Accepted(value, raw))
    reading = read_temperature(raw) if question.unit == "celsius" else read_count(raw)
    result = _from_reading(question, reading, raw)
    return _in_range(question, result) if isinstance(result, Accepted) else result


def _in_range(question: Question, result: Accepted) -> Result:
    if result.value == UNKNOWN:
        return result
    if question.decimals == 0 and float(result.value) != int(float(result.value)):
        return Rejected("ambiguous")  # "2.5 people", "1.234" (a thousands point?): ask, never round
    value = _round(float(result.value), question.decimals)
    if question.min is not None and value < question.min:
        return Rejected("out_of_range")
    if question.max is not None and value > question.max:
        return Rejected("out_of_range")
    return Accepted(float(value), result.raw, result.confidence)


def _implied_decimal(question: Question, value: float) -> float:
    """Keypad "375#" for a temperature: 375 is out of range, 37.5 is in it — the way phone menus take it."""
    def fits(v: float) -> bool:
        return (question.min is None or v >= question.min) and (question.max is None or v <= question.max)

    if question.decimals >= 1 and not fits(value) and fits(value / 10):
        return value / 10
    return value


def _round(value: float, decimals: int) -> float:
    """Half-up, on the decimal digits as said (36.55 → 36.6, not float's 36.5)."""
    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def _fold(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


_NEGATORS = ("不", "没", "沒", "未", "无", "無", "别", "別", "안 ", "못 ", "not ", "no ", "n't ",
              "never ")


def _spans(raw: str, word: str) -> list[tuple[int, int]]:
    """Where ``word`` is said and not negated: whole words for Latin, anywhere for CJK / Hangul."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", raw).casefold())
    word = _SPACES.sub(" ", unicodedata.normalize("NFKC", word).casefold()).strip()
    if not word:
        return []
    pattern = rf"(?<![a-z]){re.escape(word)}(?![a-z])" if word.isascii() else re.escape(word)
    found = []
    for m in re.finditer(pattern, text):
        before = text[: m.start()]
        if not any(before.endswith(n) or before.endswith(n.strip()) for n in _NEGATORS):
            found.append((m.start(), m.end()))
    return found


def _choice(question: Question, raw: str, keypad: bool) -> Result:
    """A choice by its number, label or synonym; two different choices said, or a question back: ask again."""
    digits = raw.strip().rstrip("#")
    if digits.isdigit() and len(digits) <= 2:
        index = int(digits) - 1
        if 0 <= index < len(question.choices):
            return Accepted(question.choices[index].key, raw)
        return Rejected("not_an_option")
    if keypad:
        return Rejected("not_an_option")
    mentions: list[tuple[int, int, str]] = []
    for choice in question.choices:
        words = [*choice.label.values(), *(w for ws in choice.synonyms.values() for w in ws)]
        mentions += [(start, end, choice.key) for w in words for start, end in _spans(raw, w)]
    # a mention inside a longer one of another choice does not count ("没有隔离" holds "隔离"), nor one that
    # starts inside an earlier one ("열차로": 열차 is the train, not 차로 the car)
    kept = {key for start, end, key in mentions
            if not any(k2 != key and ((s2 <= start and end <= e2 and (e2 - s2) > (end - start))
                                      or s2 < start < e2 < end)
                       for s2, e2, k2 in mentions)}
    if not kept:
        return Rejected("question" if is_question(fold(raw)) else "not_an_option")
    if len(kept) > 1:
        return Rejected("ambiguous")
    if is_question(fold(raw)):
        return Rejected("question")
    return Accepted(kept.pop(), raw, HEDGED if has_hedge(fold(raw)) else 1.0)
