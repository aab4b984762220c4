"""voice_caller.grammar: per-question phrase lists that agree with the chat path's normalisers."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns import QUESTIONNAIRE_DIR, load_directory
from campaigns.interrupts import detect_interrupt
from campaigns.normalize import parse_number, parse_temperature, parse_yes_no
from campaigns.runner import take_turn
from voice_caller.grammar import UNK, grammar_for, number_words, yes_no_phrases

LANGS = ("zh", "en", "ko")


def expect(kind: str, language: str, **more: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"questionnaire": "daily_health", "question": "cough", "type": kind,
                            "language": language, "options": [], "min": None, "max": None, "unit": None,
                            "prompt": "?"}
    return {**base, **more}


def answers_of(grammar: list[str]) -> list[str]:
    """The phrases that are answers (not interruptions, not the unknown-word symbol)."""
    return [p for p in grammar if p != UNK and detect_interrupt(compact(p)) is None]


def compact(phrase: str) -> str:
    """Chinese phrases come character by character too ("没 有"); the text normalisers read them joined."""
    return phrase.replace(" ", "") if any("\u4e00" <= ch <= "\u9fff" for ch in phrase) else phrase


@pytest.mark.parametrize("language", LANGS)
@pytest.mark.parametrize(("kind", "values"), [("yes_no", {"yes", "no"}), ("confirm", {"yes", "no"}),
                                              ("yes_no_unsure", {"yes", "no", "not_sure"})])
def test_yes_no_phrases_mean_the_same_to_the_chat_normaliser(language: str, kind: str, values: set[str]) -> None:
    grammar = grammar_for(expect(kind, language))
    assert grammar is not None and grammar[-1] == UNK
    meanings = {p: parse_yes_no(compact(p), language) for p in answers_of(grammar)}
    assert set(meanings.values()) == values, meanings  # every phrase has a meaning, every value a phrase


@pytest.mark.parametrize(("language", "yes", "no"), [("zh", "有", "没有"), ("en", "yes", "no"), ("ko", "네", "아니요")])
def test_the_plain_answers_are_there(language: str, yes: str, no: str) -> None:
    assert {yes, no} <= set(yes_no_phrases(language))
    assert "not_sure" not in {parse_yes_no(p, language) for p in yes_no_phrases(language)}


@pytest.mark.parametrize("language", LANGS)
def test_every_temperature_in_range_can_be_said_and_reads_back(language: str) -> None:
    grammar = grammar_for(expect("number", language, question="temperature", min=34.0, max=43.0, unit="celsius"))
    assert grammar is not None
    read = {}
    for phrase in answers_of(grammar):
        value = parse_temperature(compact(phrase))
        assert value is not None and 34.0 <= value <= 43.0, (phrase, value)
        read[round(value, 1)] = phrase
    assert sorted(read) == [round(34.0 + i / 10, 1) for i in range(91)]


@pytest.mark.parametrize(("value", "language", "said"), [
    (37.5, "zh", "三十七点五"), (37.5, "zh", "三十七度五"), (38.0, "zh", "三十八"), (105, "zh", "一百零五"),
    (37.5, "ko", "삼십칠 점 오"), (37.5, "ko", "삼십 칠 점 오"), (10, "ko", "십"), (111, "ko", "백십일"),
    (37.5, "en", "thirty seven point five"), (40, "en", "forty"), (115, "en", "one hundred fifteen"),
])
def test_numbers_are_said_the_way_residents_say_them(value: float, language: str, said: str) -> None:
    assert said in number_words(value, language)
    assert (parse_temperature if "度" in said else parse_number)(said) == value


def test_a_huge_range_gets_numeral_words_not_every_number() -> None:
    grammar = grammar_for(expect("number", "zh", min=0, max=100000, unit="people"))
    assert grammar is not None and len(grammar) < 200
    assert {"一", "十", "百", "千", "万", "人"} <= set(grammar)


def test_choice_grammar_has_labels_and_the_definitions_synonyms() -> None:
    q = load_directory(QUESTIONNAIRE_DIR)["traveller"]
    question = next(x for x in q.questions if x.type == "choice" and any(c.synonyms.get("zh") for c in x.choices))
    options = [{"value": c.key, "label": c.label["zh"], "keypad": str(i)} for i, c in enumerate(question.choices, 1)]
    grammar = grammar_for(expect("choice", "zh", questionnaire="traveller", question=question.key, options=options))
    assert grammar is not None
    for choice in question.choices:
        assert choice.label["zh"] in grammar
        assert set(choice.synonyms.get("zh", ())) <= set(grammar)
        assert " ".join(choice.label["zh"]) in grammar  # character by character, for models that segment so


@pytest.mark.parametrize("language", LANGS)
def test_opt_out_and_a_person_can_always_be_said(language: str) -> None:
    grammar = grammar_for(expect("yes_no", language))
    assert grammar is not None
    kinds = {detect_interrupt(compact(p), language) for p in grammar}
    assert {"opt_out", "ask_human"} <= kinds


def test_spoken_opt_out_is_honoured_by_the_runner() -> None:
    """A phrase the grammar offers for opting out ends the run exactly as a typed one does."""
    from campaigns import engine

    q = load_directory(QUESTIONNAIRE_DIR)["daily_health"]
    grammar = grammar_for(expect("number", "ko", question="temperature", min=34.0, max=43.0, unit="celsius"))
    assert grammar is not None
    opt_out = next(p for p in grammar if detect_interrupt(p, "ko") == "opt_out")
    turn = take_turn(q, engine.start(q, "ko").state, opt_out)
    assert turn.interrupt == "opt_out" and turn.step.state.opted_out


@pytest.mark.parametrize("kind", ["date", "place", "text"])
def test_free_answers_get_free_speech(kind: str) -> None:
    assert grammar_for(expect(kind, "zh")) is None


@pytest.mark.parametrize("bad", [{}, {"type": "yes_no", "language": "fr"}, {"type": "mystery", "language": "zh"}])
def test_unknown_payloads_fall_back_to_free_speech(bad: dict[str, Any]) -> None:
    assert grammar_for(bad) is None


def test_phrases_are_unique_and_clean() -> None:
    for language in LANGS:
        grammar = grammar_for(expect("number", language, min=34.0, max=43.0, unit="celsius"))
        assert grammar is not None
        assert len(grammar) == len(set(grammar))
        assert all(p == p.strip() and "  " not in p for p in grammar)
