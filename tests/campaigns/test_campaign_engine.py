"""The pure engine: skipping, retries, confirmation, risk, serialisation, purity."""

from __future__ import annotations

import json
from datetime import date

from campaigns import Questionnaire, RunState, abandon, answer, assess, repeat, start
from campaigns.loader import parse_questionnaire

CTX = {"age": 40, "today": date(2026, 2, 10)}


def run(q: Questionnaire, replies: list[str], lang: str = "zh") -> RunState:
    state = start(q, lang, CTX).state
    for text in replies:
        state = answer(q, state, text, context=CTX).state
    return state


def test_start_says_intro_then_first_prompt(daily: Questionnaire) -> None:
    step = start(daily, "en", CTX)
    assert step.say == [daily.intro["en"], daily.question("temperature").prompt["en"]]
    assert step.state.current == "temperature" and not step.finished
    assert step.state.content_hash == daily.content_hash


ZH_EN_ONLY = """\
id: zh_en_only
version: 1
title: {zh: 演示, en: Demo}
languages: [zh, en]
intro: {zh: 您好。, en: Hello.}
questions:
  - key: cough
    type: yes_no
    prompt: {zh: 您有没有咳嗽？, en: Have you had a cough?}
risk:
  default: low
closing:
  low: {zh: 谢谢。, en: Thank you.}
"""


def test_unsupported_language_falls_back_to_chinese() -> None:
    q = parse_questionnaire(ZH_EN_ONLY)
    assert "ko" not in q.languages
    step = start(q, "ko", CTX)
    assert step.state.language == "zh"
    assert step.say == ["您好。", "您有没有咳嗽？"]


def test_accepted_answer_moves_on_and_is_recorded(daily: Questionnaire) -> None:
    state = start(daily, "zh", CTX).state
    step = answer(daily, state, "三十七度五", context=CTX)
    assert step.accepted is not None
    assert (step.accepted.key, step.accepted.value, step.accepted.raw) == ("temperature", 37.5, "三十七度五")
    assert step.say == [daily.question("cough").prompt["zh"]]
    assert step.state.answers == {"temperature": 37.5} and step.state.raw == {"temperature": "三十七度五"}


def test_rejected_answer_reprompts_with_the_range(daily: Questionnaire) -> None:
    state = start(daily, "zh", CTX).state
    step = answer(daily, state, "五十度", context=CTX)
    assert step.accepted is None and step.state.tries == {"temperature": 1}
    assert step.say == ["请说一个34到43摄氏度之间的数。"]
    en = answer(daily, start(daily, "en", CTX).state, "fifty", context=CTX)
    assert en.say == ["Please say a number between 34 and 43 degrees Celsius."]


def test_max_tries_records_no_answer_and_ends_partial(daily: Questionnaire) -> None:
    state = run(daily, ["abc", "abc", "没有", "没有", "没有", "没有", "没有", "没有"])
    assert state.status == "partial" and state.unanswered == ["temperature"]
    assert "temperature" not in state.answers and state.risk == "low"


def test_when_false_skips_the_question(daily: Questionnaire) -> None:
    state = run(daily, ["36.5", "没有", "没有", "没有", "没有", "没有", "没有"])
    assert state.status == "complete" and state.skipped == ["travel_place"]
    assert state.derived == {"fever": False, "symptom_count": 0, "exposed": False}


def test_finishing_says_the_closing_for_the_risk_level(daily: Questionnaire) -> None:
    state = run(daily, ["36.5", "没有", "没有", "没有", "没有", "没有"])
    step = answer(daily, state, "有", context=CTX)
    assert not step.finished and step.say == [daily.question("travel_place").prompt["zh"]]
    last = answer(daily, step.state, "北京", context=CTX)
    assert last.finished and last.risk == "low" and last.say == [daily.closing["low"]["zh"]]
    assert answer(daily, last.state, "more", context=CTX).say == []  # a finished run stays put


def test_low_confidence_asks_for_confirmation(daily: Questionnaire) -> None:
    state = start(daily, "zh", CTX).state
    step = answer(daily, state, "三十七度五", confidence=0.4, context=CTX)
    assert step.accepted is None and step.say == ["您说的是37.5摄氏度，对吗？"]
    assert step.state.pending_confirmation == {"value": 37.5, "raw": "三十七度五", "confidence": 0.4}
    assert repeat(daily, step.state).say == ["您说的是37.5摄氏度，对吗？"]
    yes = answer(daily, step.state, "对", context=CTX)
    assert yes.state.answers == {"temperature": 37.5} and yes.accepted is not None
    no = answer(daily, step.state, "不对", context=CTX)
    assert no.state.answers == {} and no.say == [daily.question("temperature").reprompt["zh"]]
    en = answer(daily, start(daily, "en", CTX).state, "37.5", confidence=0.3, context=CTX)
    assert en.say == ["You said 37.5 degrees Celsius, is that right?"]


def test_unclear_confirmation_is_asked_again_then_given_up(daily: Questionnaire) -> None:
    state = answer(daily, start(daily, "zh", CTX).state, "三十七度五", confidence=0.4, context=CTX).state
    once = answer(daily, state, "abc", context=CTX)
    assert once.say == ["您说的是37.5摄氏度，对吗？"] and once.state.pending_confirmation
    twice = answer(daily, once.state, "abc", context=CTX)
    assert twice.state.unanswered == ["temperature"] and twice.state.current == "cough"


def test_engine_never_changes_the_given_state(daily: Questionnaire) -> None:
    state = start(daily, "zh", CTX).state
    before = state.to_dict()
    answer(daily, state, "三十七度五", context=CTX)
    answer(daily, state, "abc", context=CTX)
    abandon(daily, state, "opt_out")
    assert state.to_dict() == before


def test_state_round_trips_through_json(daily: Questionnaire) -> None:
    state = run(daily, ["三十七度五", "abc", "有"])
    again = RunState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    assert answer(daily, again, "没有", context=CTX).state.answers["sore_throat"] == "no"


def test_abandon_keeps_answers_but_gives_no_risk(daily: Questionnaire) -> None:
    state = run(daily, ["三十九度五", "有"])
    step = abandon(daily, state, "opt_out", CTX)
    assert step.finished and step.state.status == "abandoned" and step.state.opted_out
    assert step.state.answers == {"temperature": 39.5, "cough": "yes"}
    assert step.risk is None and step.state.risk is None and step.state.derived["fever"] is True
    assert step.say == ["好的，我们不会再就此打扰您。祝您健康。"]
    hangup = abandon(daily, state, "hangup", CTX)
    assert hangup.say == [] and not hangup.state.opted_out


def test_assess_applies_the_healthcheck_rule(daily: Questionnaire) -> None:
    base = {"temperature": 36.5, "cough": "no", "sore_throat": "no", "breathing": "no",
            "taste_smell": "no", "contact": "no", "travel": "no"}
    assert assess(daily, base, {"age": 30})[1] == "low"
    assert assess(daily, {**base, "contact": "yes"}, {"age": 30})[1] == "moderate"
    assert assess(daily, {**base, "cough": "yes"}, {"age": 30})[1] == "moderate"
    assert assess(daily, {**base, "cough": "yes", "contact": "yes"}, {"age": 30})[1] == "high"
    two = {**base, "cough": "yes", "sore_throat": "yes"}
    assert assess(daily, two, {"age": 30})[1] == "moderate"
    assert assess(daily, two, {"age": 70})[1] == "high"
    assert assess(daily, two, {})[1] == "moderate"  # unknown age is not "over 65"
    three = {**two, "temperature": 37.8}
    assert assess(daily, three, {"age": 30}) == ({"fever": True, "symptom_count": 3, "exposed": False}, "high")
    assert assess(daily, {**base, "temperature": 38.5}, {"age": 30})[1] == "high"
