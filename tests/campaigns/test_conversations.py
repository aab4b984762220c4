"""Every conversation in campaigns/questionnaires/tests/*.test.yml, through the pure engine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from campaigns import (
    CONVERSATION_TEST_DIR,
    Conversation,
    Questionnaire,
    load_conversation_tests,
    run_conversation,
)
from campaigns.conversation_tests import Expectation, load_conversation_file
from campaigns.errors import DefinitionError

CONVERSATIONS = load_conversation_tests(CONVERSATION_TEST_DIR)


@pytest.mark.parametrize("conv", CONVERSATIONS, ids=[c.id for c in CONVERSATIONS])
def test_conversation(conv: Conversation, questionnaires: dict[str, Questionnaire]) -> None:
    result = run_conversation(questionnaires[conv.questionnaire], conv)
    assert result.ok, result.report()


def test_every_questionnaire_is_covered_in_chinese_and_english(
        questionnaires: dict[str, Questionnaire]) -> None:
    for qid, q in questionnaires.items():
        mine = [c for c in CONVERSATIONS if c.questionnaire == qid]
        for lang in q.languages:
            langs = [c for c in mine if c.language == lang]
            assert langs, f"{qid}: no conversation in {lang}"
            assert any(c.expect.opted_out and c.expect.status == "abandoned" for c in langs), (
                f"{qid}: no opt-out conversation in {lang}")
        zh_replies = {r.text for c in mine if c.language == "zh" for r in c.replies}
        assert {"不知道", "abc"} <= zh_replies, qid
        if q.keys[0] == "temperature":
            assert {"三十九度五", "五十度"} <= zh_replies, qid


def test_a_wrong_expectation_is_reported(questionnaires: dict[str, Questionnaire]) -> None:
    conv = next(c for c in CONVERSATIONS if c.questionnaire == "daily_health")
    wrong = replace(conv, expect=Expectation("complete", {"temperature": 40.0}, "low", False))
    result = run_conversation(questionnaires["daily_health"], wrong)
    assert not result.ok
    assert any(f.startswith("answer temperature: expected 40.0") for f in result.failures)
    assert any(f.startswith("answer cough: expected '<none>'") for f in result.failures)


def test_replies_left_over_after_the_end_are_reported(questionnaires: dict[str, Questionnaire]) -> None:
    conv = next(c for c in CONVERSATIONS if c.id == "notice_ack: received, Chinese")
    longer = replace(conv, replies=conv.replies * 2)
    result = run_conversation(questionnaires["notice_ack"], longer)
    assert result.failures == ["the run ended before reply 2 ('收到'); 1 replies unused"]


def test_a_broken_test_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.test.yml"
    path.write_text("questionnaire: daily_health\nconversations:\n  - name: a\n    language: zh\n"
                    "    replies: [\"有\"]\n    expect:\n      status: done\n      answers: {}\n",
                    encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_conversation_file(path)
    assert info.value.line == 7 and "status must be one of" in info.value.reason
