"""``number``: a count or a temperature in the question's range; keypad digits with ``*`` as the point, ``#`` ends."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from campaigns._values import read_count, read_temperature
from campaigns.answers import UNKNOWN, Accepted, NluHints, Rejected, Result, from_reading
from campaigns.messages import say_number, unit_text
from campaigns.qtypes import register
from campaigns.qtypes.base import QuestionType, Words
from campaigns.questionnaire import Question

__all__ = ["Number"]

_KEYPAD_NUMBER = re.compile(r"^(\d+)(?:\*(\d+))?#?$")


class Number(QuestionType):
    name = "number"
    ranged = True

    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        if keypad:
            m = _KEYPAD_NUMBER.match(raw.strip())
            if not m:
                return Rejected("unintelligible")
            value = float(f"{m[1]}.{m[2] or 0}")
            if m[2] is None:
                value = _implied_decimal(question, value)
            return _in_range(question, Accepted(value, raw))
        reading = read_temperature(raw) if question.unit == "celsius" else read_count(raw)
        result = from_reading(question, reading, raw)
        return _in_range(question, result) if isinstance(result, Accepted) else result

    def render(self, question: Question, value: Any, lang: str) -> str:
        return f"{say_number(float(value))}{unit_text(question, lang)}"

    def confirmable(self, question: Question, limit: int) -> list[Any]:
        if question.min is None or question.max is None or question.max < question.min:
            return []
        step = Decimal(1).scaleb(-question.decimals)
        low, high = Decimal(repr(question.min)), Decimal(repr(question.max))
        count = int((high - low) / step) + 1
        if count > limit:
            return []
        return [float(low + i * step) for i in range(count)]

    def listen(self, expect: Any, words: Words) -> list[str] | None:
        return words.numbers(expect.min, expect.max, expect.unit)


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


register(Number())
