"""Questionnaire versions: registered once; an edit without a version bump is refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from campaigns import QUESTIONNAIRE_DIR
from campaigns.registry import load_and_register
from gridreach.errors import QuestionnaireVersionConflict


def test_registering_twice_changes_nothing(store: Any) -> None:
    first = load_and_register(store, QUESTIONNAIRE_DIR)
    again = load_and_register(store, QUESTIONNAIRE_DIR)
    assert set(first) == set(again) >= {"daily_health", "traveller", "quarantine_followup", "work_resumption",
                                          "notice_ack"}
    stored = store.get_questionnaire("daily_health", first["daily_health"].version)
    assert stored.content_hash == first["daily_health"].content_hash
    assert stored.definition == first["daily_health"].to_dict()


def test_an_edit_without_a_version_bump_is_refused_and_a_bump_is_accepted(store: Any, tmp_path: Path) -> None:
    load_and_register(store, QUESTIONNAIRE_DIR)
    edited = tmp_path / "questionnaires"
    edited.mkdir()
    shutil.copy(QUESTIONNAIRE_DIR / "daily_health.yml", edited)
    path = edited / "daily_health.yml"
    text = path.read_text(encoding="utf-8").replace("您最近有没有咳嗽？", "您这几天有没有咳嗽？")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QuestionnaireVersionConflict):
        load_and_register(store, edited)
    path.write_text(text.replace("version: 1", "version: 2", 1), encoding="utf-8")
    assert load_and_register(store, edited)["daily_health"].version == 2
    assert store.get_questionnaire("daily_health", 1).definition != store.get_questionnaire("daily_health", 2).definition
