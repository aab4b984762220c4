"""``place``: a city or an address (``campaigns.places``); free speech on the phone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import ClassVar

from campaigns.answers import HEDGED, Accepted, NluHints, Rejected, Result
from campaigns.places import read_place
from campaigns.qtypes import register
from campaigns.qtypes.base import QuestionType
from campaigns.questionnaire import Question

__all__ = ["Place"]


class Place(QuestionType):
    name = "place"
    free_text = True
    reprompts: ClassVar[Mapping[str, str]] = {"zh": "请再说一下地点。", "en": "Please say the place again.", "ko": "장소를 다시 말씀해 주세요."}

    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        reading = read_place(raw, question.detail)
        if reading.kind in ("value", "hedged"):
            return Accepted(reading.value, raw, 1.0 if reading.kind == "value" else HEDGED)
        return Rejected("unintelligible" if reading.kind == "none" else reading.kind)


register(Place())
