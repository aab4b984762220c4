"""The expect payload channels read after each question, and a silent phone line (no_input)."""

from __future__ import annotations

import json

from campaigns import Questionnaire, engine, start_message, take_turn
from campaigns.expect import expectation


def test_expectation_of_each_question_type(questionnaires: dict[str, Questionnaire]) -> None:
    daily = questionnaires["daily_health"]
    step = engine.start(daily, "zh")
    first = expectation(daily, step.state)
    assert first is not None
    assert first["question"] == "temperature" and first["type"] == "number"
    assert (first["min"], first["max"], first["unit"]) == (34.0, 43.0, "celsius")
    assert first["options"] == [] and first["prompt"] == daily.question("temperature").prompt["zh"]
    step = engine.answer(daily, step.state, "36.5")
    yes_no = expectation(daily, step.state)
    assert yes_no is not None and yes_no["type"] == "yes_no"
    assert [(o["value"], o["keypad"]) for o in yes_no["options"]] == [("yes", "1"), ("no", "2")]
    assert [o["label"] for o in yes_no["options"]] == ["有", "没有"]
    json.dumps(yes_no)  # JSON-safe: it travels in a Rasa custom message


def test_unsure_and_choice_options_follow_the_keypad_map(questionnaires: dict[str, Questionnaire]) -> None:
    daily = questionnaires["daily_health"]
    state = engine.start(daily, "en").state
    for reply in ["36.5", "no", "no", "no", "no"]:
        state = engine.answer(daily, state, reply).state
    contact = expectation(daily, state)
    assert contact is not None and contact["type"] == "yes_no_unsure"
    assert [(o["value"], o["keypad"]) for o in contact["options"]] == [("yes", "1"), ("no", "2"), ("not_sure", "3")]
    for option in contact["options"]:  # each advertised key is what the engine takes on the keypad
        taken = engine.answer(daily, state, option["keypad"], keypad=True)
        assert taken.accepted is not None and taken.accepted.value == option["value"]
    choice_q = next(q for q in questionnaires.values() if any(x.type == "choice" for x in q.questions))
    question = next(x for x in choice_q.questions if x.type == "choice")
    state = engine.RunState(choice_q.id, choice_q.version, "zh", current=question.key)
    choice = expectation(choice_q, state)
    assert choice is not None
    assert [o["value"] for o in choice["options"]] == [c.key for c in question.choices]
    taken = engine.answer(choice_q, state, choice["options"][-1]["keypad"], keypad=True)
    assert taken.accepted is not None and taken.accepted.value == question.choices[-1].key


def test_a_pending_confirmation_expects_yes_or_no(questionnaires: dict[str, Questionnaire]) -> None:
    daily = questionnaires["daily_health"]
    state = engine.start(daily, "zh").state
    step = engine.answer(daily, state, "三十七度五", confidence=0.3)
    confirm = expectation(daily, step.state)
    assert confirm is not None and confirm["type"] == "confirm" and confirm["question"] == "temperature"
    assert "37.5" in confirm["prompt"]
    assert [o["keypad"] for o in confirm["options"]] == ["1", "2"]


def test_nothing_is_expected_once_the_run_is_over(questionnaires: dict[str, Questionnaire]) -> None:
    daily = questionnaires["daily_health"]
    state = engine.start(daily, "en").state
    done = engine.abandon(daily, state, "opt_out")
    assert expectation(daily, done.state) is None


def test_silence_reprompts_then_leaves_the_question_unanswered(questionnaires: dict[str, Questionnaire]) -> None:
    daily = questionnaires["daily_health"]
    question = daily.question("temperature")
    state = engine.start(daily, "zh").state
    first = take_turn(daily, state, "", no_input=True)
    assert first.interrupt is None and first.step.accepted is None
    assert first.step.say == [question.reprompt["zh"]]
    assert first.step.state.current == "temperature"
    state = first.step.state
    for _ in range(question.max_tries - 1):
        state = take_turn(daily, state, "anything the line garbled", no_input=True).step.state
    assert state.current == "cough" and "temperature" in state.unanswered
    assert "temperature" not in state.answers


def test_silence_during_a_confirmation_asks_it_again(questionnaires: dict[str, Questionnaire]) -> None:
    daily = questionnaires["daily_health"]
    state = engine.answer(daily, engine.start(daily, "zh").state, "三十七度五", confidence=0.3).state
    again = engine.no_input(daily, state)
    assert again.state.pending_confirmation is not None
    assert "37.5" in again.say[0]


def test_start_message_lives_in_campaigns() -> None:
    assert start_message("daily_health", 3) == '/start_questionnaire{"questionnaire": "daily_health", "campaign": "3"}'
    assert start_message("notice_ack") == '/start_questionnaire{"questionnaire": "notice_ack"}'
