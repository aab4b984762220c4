"""Keyword interruptions and how the no-NLU runner handles them."""

from __future__ import annotations

import pytest

from campaigns import Questionnaire, RunState, detect_interrupt, start, take_turn


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("别再打了", "zh", "opt_out"), ("不要再打电话了", "zh", "opt_out"), ("退订", "zh", "opt_out"),
    ("stop calling me", "en", "opt_out"), ("STOP", "en", "opt_out"), ("unsubscribe", "en", "opt_out"),
    ("전화하지 마세요", "ko", "opt_out"),
    ("转人工", "zh", "ask_human"), ("我要找网格员", "zh", "ask_human"),
    ("can I talk to a person", "en", "ask_human"), ("상담원 연결해 주세요", "ko", "ask_human"),
    ("再说一遍", "zh", "repeat"), ("没听清", "zh", "repeat"), ("say that again", "en", "repeat"),
    ("pardon?", "en", "repeat"), ("다시 말씀해 주세요", "ko", "repeat"),
    ("什么意思", "zh", "help"), ("help", "en", "help"),
    ("没有", "zh", None), ("三十七度五", "zh", None), ("no", "en", None), ("stopped coughing", "en", None),
    ("", "en", None),
])
def test_detect_interrupt(text: str, lang: str, expected: str | None) -> None:
    assert detect_interrupt(text, lang) == expected


def test_opt_out_abandons_the_run(daily: Questionnaire) -> None:
    state = start(daily, "zh", {}).state
    turn = take_turn(daily, state, "别再打了")
    assert turn.interrupt == "opt_out" and turn.step.finished and turn.step.state.opted_out


def test_repeat_and_help_cost_no_try(daily: Questionnaire) -> None:
    state = start(daily, "en", {}).state
    turn = take_turn(daily, state, "say that again")
    assert turn.interrupt == "repeat" and turn.step.say == [daily.question("temperature").prompt["en"]]
    helped = take_turn(daily, turn.step.state, "help")
    assert helped.interrupt == "help" and helped.step.say[-1] == daily.question("temperature").reprompt["en"]
    assert helped.step.state.tries == {}
    star = take_turn(daily, state, "*", keypad=True)
    assert star.interrupt == "repeat"


def test_ask_human_is_an_answer_when_it_is_an_option(questionnaires: dict[str, Questionnaire]) -> None:
    q = questionnaires["notice_ack"]
    turn = take_turn(q, start(q, "zh", {}).state, "我要找网格员")
    assert turn.interrupt is None and turn.step.state.answers == {"ack": "talk"}
    daily = questionnaires["daily_health"]
    other = take_turn(daily, start(daily, "zh", {}).state, "我要找网格员")
    assert other.interrupt == "ask_human" and other.step.state.asked_human
    assert other.step.state.current == "temperature"


def test_keypad_zero_asks_for_a_person_unless_it_answers_the_question(
        questionnaires: dict[str, Questionnaire]) -> None:
    daily = questionnaires["daily_health"]
    state = start(daily, "zh", {}).state
    zero = take_turn(daily, state, "0", keypad=True)
    assert zero.interrupt == "ask_human" and zero.step.state.asked_human
    assert zero.step.state.current == "temperature" and zero.step.state.tries == {}
    assert take_turn(daily, state, "0#", keypad=True).interrupt == "ask_human"
    # where 0 is an answer (a count of people), it is the answer
    counting = next((q, x) for q in questionnaires.values() for x in q.questions
                    if x.type == "number" and (x.min is None or x.min <= 0))
    q, question = counting
    there = RunState(q.id, q.version, "zh", current=question.key)
    taken = take_turn(q, there, "0#", keypad=True)
    assert taken.interrupt is None and taken.step.accepted is not None and taken.step.accepted.value == 0.0
