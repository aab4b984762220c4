"""``yes_no``: 有 / 没有, yes / no, 네 / 아니요; keypad 1 yes, 2 no."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from campaigns._yesno import read_yes_no
from campaigns.answers import NLU_YES_NO_MIN, Accepted, NluHints, Rejected, Result, from_reading
from campaigns.phrases import phrase
from campaigns.qtypes import register
from campaigns.qtypes.base import Option, QuestionType, Words
from campaigns.questionnaire import Question
from campaigns.reading import Reading

__all__ = ["KEYPAD", "YesNo"]

#: Keypad digit -> value (a yes_no question refuses 3, "not sure").
KEYPAD = {"1": "yes", "2": "no", "3": "not_sure"}
_INTENT_VALUES = {"affirm": "yes", "deny": "no", "not_sure": "not_sure", "dont_know": "not_sure"}


class YesNo(QuestionType):
    name = "yes_no"
    single_key = True
    yes_no_words = True
    values: ClassVar[tuple[str, ...]] = ("yes", "no")

    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        if keypad:
            value = KEYPAD.get(raw.strip().rstrip("#"))
            return Rejected("unintelligible") if value is None else self._allowed(Accepted(value, raw))
        reading = read_yes_no(raw, echo=question.prompt.values(), frame=question.prompt.get(language, ""))
        if reading.kind == "none" and hints.intent in _INTENT_VALUES and hints.confidence >= NLU_YES_NO_MIN:
            reading = Reading("hedged", _INTENT_VALUES[hints.intent])  # the words did not say it: confirm first
        result = from_reading(question, reading, raw)
        return self._allowed(result) if isinstance(result, Accepted) else result

    def _allowed(self, result: Accepted) -> Result:
        return Rejected("not_an_option") if result.value == "not_sure" and "not_sure" not in self.values else result

    def render(self, question: Question, value: Any, lang: str) -> str:
        # how each value is said back: the catalogue's qtypes.yes_no.<value>
        return phrase(f"qtypes.yes_no.{value}", lang) if str(value) in KEYPAD.values() else str(value)

    def options(self, question: Question, lang: str) -> list[Option]:
        return [Option(v, self.render(question, v, lang), str(i)) for i, v in enumerate(self.values, 1)]

    def confirmable(self, question: Question, limit: int) -> list[Any]:
        return list(self.values)

    def listen(self, expect: Any, words: Words) -> list[str] | None:
        return words.yes_no(unsure="not_sure" in self.values)


register(YesNo())
