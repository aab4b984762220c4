"""``place``: a city or an address (``campaigns.places``); free speech on the phone."""

from __future__ import annotations

from datetime import date

from campaigns.answers import HEDGED, Accepted, NluHints, Rejected, Result
from campaigns.places import read_place
from campaigns.qtypes import register
from campaigns.qtypes.base import QuestionType
from campaigns.questionnaire import Question

__all__ = ["Place"]


class Place(QuestionType):
    name = "place"
    free_text = True

    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        reading = read_place(raw, question.detail)
        if reading.kind in ("value", "hedged"):
            return Accepted(reading.value, raw, 1.0 if reading.kind == "value" else HEDGED)
        return Rejected("unintelligible" if reading.kind == "none" else reading.kind)


register(Place())
