"""A question type is one module: a toy ``rating`` (1 to 5 stars), registered here through the public registry only,
is read, asked again, offered as Telegram buttons and WeChat numbers, answered by one key and listened for on the
phone — without a line changed anywhere else."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, ClassVar

import pytest

from bots.telegram.format import pressed_option, question_keyboard
from bots.wechat.format import compose
from campaigns import engine, qtypes
from campaigns._values import read_count
from campaigns.answers import Accepted, NluHints, Rejected, Result, from_reading
from campaigns.expect import Expect, expect_for, expectation
from campaigns.loader import parse_questionnaire
from campaigns.messages import reason_text, render_value
from campaigns.qtypes import Option, QuestionType, Words
from campaigns.questionnaire import Question
from gridreach.dialogue import Reply
from voice_caller.grammar import UNK, grammar_for
from voice_caller.keypad import KeypadCollector


# ---- the whole new type: this would be campaigns/qtypes/rating.py -----------------------------------------------
class Rating(QuestionType):
    name = "rating"
    single_key = True
    reprompts: ClassVar[Mapping[str, str]] = {"zh": "请打一到五分。", "en": "Please give one to five stars."}

    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        result = from_reading(question, read_count(raw.rstrip("#")), raw)  # an existing reader, not a new one
        if isinstance(result, Accepted) and result.value not in (1, 2, 3, 4, 5):
            return Rejected("not_an_option")
        return Accepted(int(result.value), raw, result.confidence) if isinstance(result, Accepted) else result

    def render(self, question: Question, value: Any, lang: str) -> str:
        return "★" * int(value)

    def options(self, question: Question, lang: str) -> list[Option]:
        return [Option(str(n), self.render(question, n, lang), str(n)) for n in range(1, 6)]

    def listen(self, expect: Any, words: Words) -> list[str] | None:
        return words.numbers(1, 5, None)


SURVEY = """\
id: service
version: 1
title: {zh: 满意度, en: Satisfaction}
languages: [zh, en]
questions:
  - key: stars
    type: rating
    prompt: {zh: 您给这次服务打几分？, en: How many stars for the service?}
risk:
  default: low
closing:
  low: {zh: 谢谢。, en: Thank you.}
"""


@pytest.fixture()
def rating() -> Iterator[QuestionType]:
    yield qtypes.register(Rating())
    qtypes.unregister("rating")


def test_an_unregistered_type_is_refused_by_the_loader() -> None:
    assert "rating" not in qtypes.names() and qtypes.get("rating") is None
    with pytest.raises(Exception, match="unknown question type 'rating'"):
        parse_questionnaire(SURVEY)


def test_a_registered_type_is_loaded_read_and_asked_again(rating: QuestionType) -> None:
    assert "rating" in qtypes.names()
    q = parse_questionnaire(SURVEY)
    state = engine.start(q, "en").state
    wrong = engine.answer(q, state, "seven")
    assert wrong.accepted is None and wrong.say == [reason_text(q.question("stars"), "not_an_option", "en")]
    assert wrong.say == ["Please give one to five stars."]
    done = engine.answer(q, state, "four")
    assert done.accepted is not None and done.accepted.value == 4
    keyed = engine.answer(q, state, "2", keypad=True)
    assert keyed.accepted is not None and keyed.accepted.value == 2
    assert render_value(q.question("stars"), 3, "zh") == "★★★"


def test_a_registered_type_is_offered_on_every_channel(rating: QuestionType) -> None:
    q = parse_questionnaire(SURVEY)
    state = engine.start(q, "zh").state
    expect = expect_for(q, state)
    assert expect is not None and expect.type == "rating"
    assert [(o.keypad, o.label) for o in expect.options][:2] == [("1", "★"), ("2", "★★")]
    payload = expectation(q, state)
    assert payload is not None and Expect.from_payload(payload) == expect  # the round trip over the wire

    keyboard = question_keyboard(expect)  # Telegram: one button per option, pressing one sends its digit
    assert keyboard is not None
    buttons = [b for row in keyboard["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons] == [f"q:stars:{n}" for n in range(1, 6)]
    option = pressed_option(expect, "stars", "5")
    assert option is not None and option.value == "5"

    composed = compose([Reply(text="您给这次服务打几分？"), Reply(custom={"expect": payload})])  # WeChat
    assert "1 ★ / 2 ★★ / 3 ★★★ / 4 ★★★★ / 5 ★★★★★" in composed.text
    assert composed.choices is not None and composed.choices.resolve("4") == ("4", True)

    keys = KeypadCollector(expect)  # the phone: one key answers it
    assert keys.single and keys.press("3") == "3"

    grammar = grammar_for(expect)  # and the recogniser listens for one to five
    assert grammar is not None and grammar[-1] == UNK
    assert {"一", "二", "三", "四", "五"} <= set(grammar) and "六" not in grammar


def test_a_garbled_payload_is_no_expect() -> None:
    assert Expect.from_payload(None) is None and Expect.from_payload({"options": []}) is None
    found = Expect.from_payload({"type": "yes_no", "options": ["x", {"value": "yes", "keypad": "1"}], "min": "a"})
    assert found is not None and found.options == (Option("yes", "yes", "1"),) and found.min is None
    assert grammar_for({"type": "rating", "language": "zh"}) is None  # not registered: free speech
    assert not KeypadCollector({"type": "rating"}).single
