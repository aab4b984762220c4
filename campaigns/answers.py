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
from campaigns.places import NON_ANSWER, read_place
from campaigns.questionnaire import Question
from campaigns.reading import Reading, fold, has_hedge, is_question, refuses

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
    if not _clean(raw) and not (question.type == "choice" and raw.strip() and _choice_symbol(question, raw)):
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


def _free_text(question: Question, raw: str) -> Result:
    """A free text (or a place, ``campaigns.places``): the whole answer, unless it is no answer ("不知道", "?")."""
    if question.type == "place":
        reading = read_place(raw, question.detail)
        if reading.kind in ("value", "hedged"):
            return Accepted(reading.value, raw, 1.0 if reading.kind == "value" else HEDGED)
        return Rejected("unintelligible" if reading.kind == "none" else reading.kind)
    norm = fold(raw)
    cleaned = _clean(raw)
    if NON_ANSWER.search(fold(cleaned)) or refuses(norm):
        return Rejected("unintelligible")
    if is_question(norm) and norm.endswith("?"):
        return Rejected("question")
    if not any(ch.isalnum() for ch in cleaned):
        return Rejected("unintelligible")
    return Accepted(cleaned, raw)


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
    if not -1e9 < float(result.value) < 1e9:
        return Rejected("out_of_range")  # forty digits: no count, no temperature
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
    text = fold(raw)
    word = fold(word)
    if not word:
        return []
    pattern = rf"(?<![a-z]){re.escape(word)}(?![a-z])" if word.isascii() else re.escape(word)
    found = []
    for m in re.finditer(pattern, text):
        before = text[: m.start()]
        if not any(before.endswith(n) or before.endswith(n.strip()) for n in _NEGATORS):
            found.append((m.start(), m.end()))
    return found


#: A choice taken back, still to come, half one and half another, or not sure: asked again.
_CHOICE_UNCLEAR = re.compile(
    r"\b(?:no wait|wait|actually|i mean|tomorrow|will (?:go|be|move|start|arrive|get)|i'll (?:go|be|move)|going to|gonna"
    r"|not sure|or)\b|\?|其实|不对|明天|将要|要去|还没|一半|"
    r"不知道|不确定|或者|还是|真的假的|예정|내일|아니면|이랑|갔다가|있다가|반은|모르겠|볼게요|할게요|나중에"
)


_CHOICE_NEGATION = re.compile(r"不需要|不用|不要|没必要|\b(?:no need|don't need|do not need|not needed|don't want)\b"
                              r"|필요\s*없|안\s*해도|싫어요")


def _choice_symbol(question: Question, raw: str) -> bool:
    """An emoji the definition lists as a synonym ("👍" for received)."""
    return any(raw.strip() == w for c in question.choices for ws in c.synonyms.values() for w in ws)


def _choice(question: Question, raw: str, keypad: bool) -> Result:
    """A choice by its number, label or synonym; two different choices said, or a question back: ask again."""
    digits = raw.strip().rstrip("#")
    if digits.isascii() and digits.isdecimal() and len(digits) <= 2:
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
    if _CHOICE_UNCLEAR.search(fold(raw)):
        return Rejected("ambiguous")
    rest = fold(raw)
    for start, end, key in sorted(mentions, key=lambda m: m[0], reverse=True):
        if key in kept:
            rest = rest[:start] + " " + rest[end:]
    if _CHOICE_NEGATION.search(rest):
        return Rejected("ambiguous")  # "담당자 필요 없어요", "不需要找网格员": the option said, and taken back
    if len(kept) > 1:
        return Rejected("ambiguous")
    if is_question(fold(raw)):
        return Rejected("question")
    return Accepted(kept.pop(), raw, HEDGED if has_hedge(fold(raw)) else 1.0)
