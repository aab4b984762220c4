"""campaigns.answers.interpret: one decision for chat, speech and keypad."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from campaigns import Accepted, NluHints, Questionnaire, Rejected, interpret
from campaigns.answers import HEDGED

TODAY = date(2026, 2, 10)


def decide(q: Questionnaire, key: str, text: str, lang: str = "zh", **kw: Any) -> Accepted | Rejected:
    return interpret(q.question(key), text, lang, today=TODAY, **kw)


@pytest.mark.parametrize(("text", "expected"), [
    ("三十九度五", Accepted(39.5, "三十九度五")), ("37度5", Accepted(37.5, "37度5")),
    ("36.55", Accepted(36.6, "36.55")),  # rounded to the question's one decimal
    ("五十度", Rejected("out_of_range")), ("33", Rejected("out_of_range")),
    ("abc", Rejected("unintelligible")),
    ("不知道", Accepted("unknown", "不知道")),  # daily_health allows an explicit unknown (allow_unknown: true)
    ("", Rejected("empty")), ("  。 ", Rejected("empty")),
])
def test_temperature(daily: Questionnaire, text: str, expected: Accepted | Rejected) -> None:
    assert decide(daily, "temperature", text) == expected


@pytest.mark.parametrize(("key", "text", "expected"), [
    ("cough", "有", "yes"), ("cough", "没有", "no"), ("cough", "不知道", Rejected("not_an_option")),
    ("cough", "abc", Rejected("unintelligible")),
    ("contact", "不知道", "not_sure"), ("contact", "not sure", "not_sure"), ("contact", "有", "yes"),
])
def test_yes_no(daily: Questionnaire, key: str, text: str, expected: Any) -> None:
    result = decide(daily, key, text)
    if isinstance(expected, Rejected):
        assert result == expected
    else:
        assert isinstance(result, Accepted) and result.value == expected and result.raw == text


def test_intent_hint_alone_is_confirmed_never_stored(daily: Questionnaire) -> None:
    hints = NluHints(intent="affirm", confidence=0.8)
    result = decide(daily, "cough", "那必须的", hints=hints)
    assert result == Accepted("yes", "那必须的", HEDGED)  # below confirm_below: the engine asks back
    assert daily.question("cough").confirm_below > HEDGED
    assert decide(daily, "cough", "那必须的", hints=NluHints(intent="affirm", confidence=0.6)) == \
        Rejected("unintelligible")
    assert decide(daily, "cough", "那必须的") == Rejected("unintelligible")
    unsure = decide(daily, "cough", "hmm", hints=NluHints(intent="not_sure", confidence=0.9))
    assert unsure == Rejected("not_an_option")


def test_text_wins_over_a_contrary_intent(daily: Questionnaire) -> None:
    result = decide(daily, "cough", "没有", hints=NluHints(intent="affirm", confidence=0.99))
    assert isinstance(result, Accepted) and result.value == "no"


def test_a_value_the_words_do_not_hold_is_never_taken_from_an_entity(daily: Questionnaire) -> None:
    hints = NluHints(entities=[{"entity": "temperature", "value": "38.2"}])
    assert decide(daily, "temperature", "发烧了", hints=hints) == Rejected("unintelligible")


@pytest.mark.parametrize(("key", "text", "expected"), [
    ("cough", "1", "yes"), ("cough", "2", "no"), ("cough", "3", Rejected("not_an_option")),
    ("contact", "3", "not_sure"), ("cough", "9", Rejected("unintelligible")),
    ("temperature", "37*5", 37.5), ("temperature", "38#", 38.0), ("temperature", "50", Rejected("out_of_range")),
    # phone-menu style, the decimal point implied when only that reading is in range
    ("temperature", "375#", 37.5), ("temperature", "382", 38.2), ("temperature", "36", 36.0),
    ("temperature", "3750#", Rejected("out_of_range")),
])
def test_keypad(daily: Questionnaire, key: str, text: str, expected: Any) -> None:
    result = decide(daily, key, text, keypad=True)
    assert result == (expected if isinstance(expected, Rejected) else Accepted(expected, text))


def test_choice(questionnaires: dict[str, Questionnaire]) -> None:
    q = questionnaires["traveller"]
    assert decide(q, "transport", "坐高铁来的") == Accepted("train", "坐高铁来的")
    assert decide(q, "transport", "I flew in", "en") == Accepted("flight", "I flew in")
    assert decide(q, "transport", "2", keypad=True) == Accepted("flight", "2")
    assert decide(q, "transport", "5", keypad=True) == Rejected("not_an_option")
    assert decide(q, "transport", "不知道") == Rejected("not_an_option")
    assert decide(q, "quarantine", "没有隔离") == Accepted("none", "没有隔离")
    assert decide(q, "quarantine", "scarf", "en") == Rejected("not_an_option")  # no "car" inside words


def test_negated_option_is_not_chosen(questionnaires: dict[str, Questionnaire]) -> None:
    q = questionnaires["notice_ack"]
    assert decide(q, "ack", "没收到") == Rejected("not_an_option")
    assert decide(q, "ack", "not received", "en") == Rejected("not_an_option")
    assert decide(q, "ack", "收到了") == Accepted("received", "收到了")


def test_date_place_and_text(questionnaires: dict[str, Questionnaire]) -> None:
    q = questionnaires["traveller"]
    assert decide(q, "arrival_date", "二月三号") == Accepted("2026-02-03", "二月三号")
    assert decide(q, "arrival_date", "Feb 3", "en") == Accepted("2026-02-03", "Feb 3")
    assert decide(q, "arrival_date", "abc") == Rejected("unintelligible")
    assert decide(q, "origin", "  武汉。 ") == Accepted("武汉", "  武汉。 ")
    hints = NluHints(entities=[{"entity": "place", "value": "武汉"}])
    assert decide(q, "origin", "我从武汉来的", hints=hints) == Accepted("武汉", "我从武汉来的")
    assert decide(q, "transport_no", "G1234 次") == Accepted("G1234 次", "G1234 次")
    assert decide(q, "transport_no", "？？") == Rejected("empty")
    assert decide(q, "address", "...!") == Rejected("empty")


def test_people_count_is_not_read_as_fahrenheit(questionnaires: dict[str, Questionnaire]) -> None:
    q = questionnaires["work_resumption"]
    assert decide(q, "staff_count", "100") == Accepted(100.0, "100")
    assert decide(q, "staff_count", "一百二十人") == Accepted(120.0, "一百二十人")
    assert decide(q, "staff_count", "零") == Rejected("out_of_range")
