"""``date``: 二月三号, yesterday, 어제...; keys are collected up to ``#``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from campaigns._dates import read_date
from campaigns.answers import NluHints, Result, from_reading
from campaigns.qtypes import register
from campaigns.qtypes.base import QuestionType
from campaigns.questionnaire import Question

__all__ = ["Date"]


class Date(QuestionType):
    name = "date"
    reprompts: ClassVar[Mapping[str, str]] = {"zh": "请说一个日期，比如二月三号，或者昨天。",
                 "en": "Please say a date, for example February third, or yesterday.",
                 "ko": "날짜를 말씀해 주세요. 예를 들어 이월 삼일, 또는 어제."}

    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        return from_reading(question, read_date(raw, today, language), raw)

    def render(self, question: Question, value: Any, lang: str) -> str:
        if isinstance(value, str) and len(value) == 10:
            month, day = int(value[5:7]), int(value[8:10])
            return {"zh": f"{month}月{day}日", "ko": f"{month}월 {day}일"}.get(lang, value)
        return str(value)


register(Date())
