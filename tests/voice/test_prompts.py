"""voice_caller.prompts: the texts of a questionnaire known before a call, exactly as the engine says them."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns import (
    CONVERSATION_TEST_DIR,
    QUESTIONNAIRE_DIR,
    engine,
    load_conversation_tests,
    load_directory,
)
from campaigns.conversation_tests import run_conversation
from campaigns.phrases import phrase
from campaigns.runner import take_turn
from voice_caller.prompts import fixed_prompts
from voice_caller.tts import Speaker

QUESTIONNAIRES = load_directory(QUESTIONNAIRE_DIR)


def test_almost_everything_said_in_the_conversation_tests_is_known_in_advance() -> None:
    """Runs every conversation test through the engine and counts the bot's texts found in fixed_prompts."""
    said, known, unknown = 0, 0, set()
    for conv in load_conversation_tests(CONVERSATION_TEST_DIR):
        q = QUESTIONNAIRES[conv.questionnaire]
        fixed = set(fixed_prompts(q, conv.language))
        result = run_conversation(q, conv)
        for who, text in result.transcript:
            if who == "bot":
                said += 1
                known += text in fixed
                if text not in fixed:
                    unknown.add(text)
    share = known / said
    print(f"\nfixed_prompts cover {known}/{said} = {share:.1%} of what the engine said; not known in advance:")
    for text in sorted(unknown):
        print(f"  {text}")
    assert said > 100 and share >= 0.97
    notice_texts = {str(c.context.get("notice", "")) for c in load_conversation_tests(CONVERSATION_TEST_DIR)}
    assert unknown <= notice_texts  # only a notice's own text, which comes from the campaign, is dynamic


@pytest.mark.parametrize("qid", sorted(QUESTIONNAIRES))
def test_each_language_has_its_own_complete_texts(qid: str) -> None:
    q = QUESTIONNAIRES[qid]
    for language in q.languages:
        texts = fixed_prompts(q, language)
        assert len(texts) == len(set(texts))
        assert not [t for t in texts if "{" in t or "}" in t]  # every field filled or removed
        assert q.intro.get(language, texts[0]) in texts
        assert all(question.prompt[language] in texts for question in q.questions)
        assert all(closing[language] in texts for closing in q.closing.values())


def test_runner_texts_confirmations_and_fields() -> None:
    q = QUESTIONNAIRES["daily_health"]
    texts = set(fixed_prompts(q, "ko", fields={"community": "행복 마을", "grid_worker": "김민수"}))
    state = engine.start(q, "ko").state
    assert set(take_turn(q, state, "상담원").step.say) <= texts  # hand-over phrase + question again
    assert set(take_turn(q, state, "도와주세요").step.say) <= texts  # help
    low = take_turn(q, state, "삼십칠 점 오", confidence=0.4).step.say  # asks "37.5 도, 맞습니까?"
    assert low and set(low) <= texts
    assert phrase("voice_greeting", "ko", community="행복 마을", grid_worker="김민수") in texts
    assert phrase("voice_greeting", "ko") in texts  # and without names, as the runner renders phrases
    staff = fixed_prompts(QUESTIONNAIRES["work_resumption"], "zh")
    assert not [t for t in staff if "您说的是5000" in t]  # 1..100000 people: too many to say ahead


def test_a_missing_language_falls_back_like_the_engine() -> None:
    q = QUESTIONNAIRES["daily_health"]
    assert fixed_prompts(q, "fr") == fixed_prompts(q, "zh")


async def test_prepared_prompts_are_all_in_the_cache(tmp_path: Path) -> None:
    """What a call needs: after prepare(), cached() finds every fixed prompt (no synthesis during the call)."""
    texts = fixed_prompts(QUESTIONNAIRES["notice_ack"], "en")
    with Speaker(tmp_path / "cache") as speaker:
        assert await speaker.prepare(texts, "en") == len(texts)
        assert all(speaker.cached(t, "en") for t in texts)
        assert await speaker.prepare(texts, "en") == 0 and speaker.requests == len(texts)
