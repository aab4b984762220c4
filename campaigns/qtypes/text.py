"""``text``: a free answer in words, unless it is no answer ("不知道", "?"); free speech on the phone."""

from __future__ import annotations

from datetime import date

from campaigns.answers import Accepted, NluHints, Rejected, Result, clean
from campaigns.places import NON_ANSWER
from campaigns.qtypes import register
from campaigns.qtypes.base import QuestionType
from campaigns.questionnaire import Question
from campaigns.reading import fold, is_question, refuses

__all__ = ["Text"]


class Text(QuestionType):
    name = "text"
    free_text = True

    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        norm = fold(raw)
        cleaned = clean(raw)
        if NON_ANSWER.search(fold(cleaned)) or refuses(norm):
            return Rejected("unintelligible")
        if is_question(norm) and norm.endswith("?"):
            return Rejected("question")
        if not any(ch.isalnum() for ch in cleaned):
            return Rejected("unintelligible")
        return Accepted(cleaned, raw)


register(Text())
