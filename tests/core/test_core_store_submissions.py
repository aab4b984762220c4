"""Store: questionnaires, campaigns, submissions, answers (incl. concurrent writers)."""

from __future__ import annotations

from datetime import timezone
from typing import Any

import pytest

from gridreach.errors import NotFound, QuestionnaireVersionConflict, StorageError

DEFINITION = {"id": "health", "version": 1, "questions": [{"key": "fever"}, {"key": "temperature"}]}


@pytest.fixture
def campaign(geo: Any, resident_id: int) -> int:
    assert geo.register_questionnaire("health", 1, "h1", "健康排查", DEFINITION) is True
    return int(geo.create_campaign("每日排查", "G01", "health", 1, "staff:zhao"))


def test_register_questionnaire_versions(store: Any) -> None:
    assert store.register_questionnaire("health", 1, "h1", "健康排查", DEFINITION) is True
    assert store.register_questionnaire("health", 1, "h1", "健康排查", DEFINITION) is False
    with pytest.raises(QuestionnaireVersionConflict, match="bump its version"):
        store.register_questionnaire("health", 1, "h2", "健康排查", {**DEFINITION, "title": "changed"})
    assert store.register_questionnaire("health", 2, "h2", "健康排查", DEFINITION) is True
    q = store.get_questionnaire("health", 1)
    assert (q.content_hash, q.title, q.definition) == ("h1", "健康排查", DEFINITION)
    assert store.get_questionnaire("health", 3) is None
    assert isinstance(QuestionnaireVersionConflict("x"), StorageError)


def test_campaigns(geo: Any, campaign: int) -> None:
    c = geo.get_campaign(campaign)
    assert (c.name, c.grid_code, c.questionnaire_id, c.questionnaire_version) == (
        "每日排查",
        "G01",
        "health",
        1,
    )
    assert (c.status, c.created_by) == ("draft", "staff:zhao")
    assert c.created_at.tzinfo == timezone.utc
    geo.set_campaign_status(campaign, "running", "staff:zhao")
    assert geo.get_campaign(campaign).status == "running"
    assert geo.get_campaign(campaign + 100) is None
    with pytest.raises(NotFound):
        geo.create_campaign("x", "G77", "health", 1, "staff")
    with pytest.raises(NotFound, match="not registered"):
        geo.create_campaign("x", "G01", "health", 9, "staff")
    actions = [e.action for e in geo.audit_entries("campaign", campaign)]
    assert actions == ["campaign.create", "campaign.running"]


def test_start_submission_reuses_the_open_one(geo: Any, resident_id: int, campaign: int) -> None:
    first = geo.start_submission(resident_id, "health", 1, campaign, "telegram", "zh")
    assert geo.start_submission(resident_id, "health", 1, campaign, "voice", "zh") == first
    assert geo.start_submission(resident_id, "health", 1, None, "voice", "zh") != first
    geo.finish_submission(first, "complete", "low")
    second = geo.start_submission(resident_id, "health", 1, campaign, "voice", "zh")
    assert second != first
    with pytest.raises(NotFound):
        geo.start_submission(999_999, "health", 1, campaign, "voice", "zh")


def test_start_submission_race_gives_one(
    geo: Any, resident_id: int, campaign: int, run_together: Any
) -> None:
    ids = run_together(4, lambda i: geo.start_submission(resident_id, "health", 1, campaign, "voice", "zh"))
    assert len(set(ids)) == 1


def test_record_answer_rules(geo: Any, resident_id: int, campaign: int) -> None:
    sub = geo.start_submission(resident_id, "health", 1, campaign, "telegram", "zh")
    assert geo.record_answer(sub, "temperature", 37.5, "三十七度五", 0.8, "voice", "call1:3") is True
    assert geo.record_answer(sub, "temperature", 37.5, "三十七度五", 0.8, "voice", "call1:3") is False
    assert geo.record_answer(sub, "fever", False, "没有", 1.0, "telegram", None) is True
    assert geo.record_answer(sub, "fever", False, "没有", 1.0, "telegram", None) is False  # same again
    # a later, different answer replaces the old one and is audited (without the value)
    assert geo.record_answer(sub, "temperature", 38.0, "三十八度", 0.9, "telegram", "tg:77") is True
    view = geo.get_submission(sub)
    assert set(view.answers) == {"temperature", "fever"}
    t = view.answers["temperature"]
    assert (t.value, t.raw, t.confidence, t.channel) == (38.0, "三十八度", 0.9, "telegram")
    assert t.answered_at.tzinfo == timezone.utc
    entries = geo.audit_entries("submission", sub)
    assert [(e.action, e.detail) for e in entries] == [
        ("answer.replace", {"question_key": "temperature", "channel": "telegram"})
    ]
    details = repr([e.detail for e in entries])
    assert "38" not in details and "三十八" not in details  # never the answer value
    with pytest.raises(NotFound):
        geo.record_answer(999_999, "fever", True, "是", 1.0, "telegram")


def test_json_values_round_trip(geo: Any, resident_id: int, campaign: int) -> None:
    sub = geo.start_submission(resident_id, "health", 1, campaign, "wechat", "zh")
    value = {"city": "武汉", "days": [1, 2], "by": None}
    geo.record_answer(sub, "travel", value, "去过武汉", None, "wechat")
    geo.record_answer(sub, "symptoms", ["cough", "fever"], "咳嗽 发烧", 0.7, "wechat")
    answers = geo.get_submission(sub).answers
    assert answers["travel"].value == value and answers["travel"].confidence is None
    assert answers["symptoms"].value == ["cough", "fever"]


@pytest.mark.parametrize("rounds", [8])
def test_record_answer_race_same_message(
    geo: Any, resident_id: int, campaign: int, rounds: int, run_together: Any
) -> None:
    sub = geo.start_submission(resident_id, "health", 1, campaign, "wechat", "zh")
    for n in range(rounds):
        key = f"q{n}"
        results = run_together(
            2, lambda i, key=key: geo.record_answer(sub, key, "是", "是", 1.0, "wechat", f"m{key}")
        )
        assert sorted(results) == [False, True], key
    assert len(geo.get_submission(sub).answers) == rounds
    assert geo.audit_entries("submission", sub) == []


def test_record_answer_race_different_answers(
    geo: Any, resident_id: int, campaign: int, run_together: Any
) -> None:
    sub = geo.start_submission(resident_id, "health", 1, campaign, "wechat", "zh")
    values = ["yes", "no"]
    results = run_together(
        2, lambda i: geo.record_answer(sub, "fever", values[i], values[i], 1.0, "wechat", f"m{i}")
    )
    assert results == [True, True]  # one inserted, the other replaced it
    view = geo.get_submission(sub)
    assert list(view.answers) == ["fever"] and view.answers["fever"].value in values
    assert [e.action for e in geo.audit_entries("submission", sub)] == ["answer.replace"]


def test_finish_submission(geo: Any, resident_id: int, campaign: int) -> None:
    sub = geo.start_submission(resident_id, "health", 1, campaign, "voice", "zh")
    open_view = geo.get_submission(sub)
    assert (open_view.status, open_view.risk_level, open_view.completed_at) == ("in_progress", None, None)
    geo.finish_submission(sub, "partial", "high")
    done = geo.get_submission(sub)
    assert (done.status, done.risk_level, done.channel, done.language) == ("partial", "high", "voice", "zh")
    assert done.completed_at is not None and done.completed_at >= done.started_at
    with pytest.raises(ValueError):
        geo.finish_submission(sub, "done", None)
    with pytest.raises(ValueError):
        geo.finish_submission(sub, "complete", "severe")
    assert geo.get_submission(999_999) is None
