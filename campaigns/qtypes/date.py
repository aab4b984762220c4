"""``date``: 二月三号, yesterday, 어제...; keys are collected up to ``#``."""

from __future__ import annotations

from datetime import date
from typing import Any

from campaigns._dates import read_date
from campaigns.answers import NluHints, Result, from_reading
from campaigns.qtypes import register
from campaigns.qtypes.base import QuestionType
from campaigns.questionnaire import Question

__all__ = ["Date"]


class Date(QuestionType):
    name = "date"

    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        return from_reading(question, read_date(raw, today, language), raw)

    def render(self, question: Question, value: Any, lang: str) -> str:
        if isinstance(value, str) and len(value) == 10:
            month, day = int(value[5:7]), int(value[8:10])
            return {"zh": f"{month}月{day}日", "ko": f"{month}월 {day}일"}.get(lang, value)
        return str(value)


register(Date())
