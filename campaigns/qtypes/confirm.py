"""``confirm``: the step "您说的是37.5，对吗？" after an unsure answer (and "do you mean no more contact?"): yes or no,
keypad 1 yes, 2 no. Not a type a questionnaire's question can have."""

from __future__ import annotations

from datetime import date
from typing import Any

from campaigns._yesno import read_yes_no
from campaigns.answers import Accepted, NluHints, Rejected, Result
from campaigns.phrases import phrase
from campaigns.qtypes import register
from campaigns.qtypes.base import Option, QuestionType, Words
from campaigns.questionnaire import Question

__all__ = ["Confirm", "read_verdict"]

_KEYPAD = {"1": "yes", "2": "no"}


def read_verdict(text: str, *, keypad: bool) -> str | None:
    """"yes", "no", or None: keypad 1 / 2, or a plain yes / no that confirms."""
    if keypad:
        return _KEYPAD.get(text.strip().rstrip("#"))
    reading = read_yes_no(text, confirming=True)
    return str(reading.value) if reading.kind == "value" else None


class Confirm(QuestionType):
    name = "confirm"
    asked = False
    single_key = True
    yes_no_words = True

    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        found = read_verdict(raw, keypad=keypad)
        return Rejected("unintelligible") if found is None else Accepted(found, raw)

    def render(self, question: Question, value: Any, lang: str) -> str:
        # "对" / "不对": the catalogue's qtypes.confirm.<value>
        return phrase(f"qtypes.confirm.{value}", lang) if str(value) in ("yes", "no") else str(value)

    def options(self, question: Question, lang: str) -> list[Option]:
        return [Option(v, self.render(question, v, lang), str(i)) for i, v in enumerate(("yes", "no"), 1)]

    def listen(self, expect: Any, words: Words) -> list[str] | None:
        """Yes / no, and the numbers of the range when a number is being confirmed ("不对，三十八度")."""
        ranged = expect.min is not None and expect.max is not None
        return words.yes_no(unsure=False) + (words.numbers(expect.min, expect.max, expect.unit) if ranged else [])


register(Confirm())
