"""Questionnaire versions: registered once; an edit without a version bump is refused."""

from __future__ import annotations

import re
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
    version = int(re.search(r"^version: (\d+)", text, re.M)[1])  # type: ignore[index]
    path.write_text(text.replace(f"version: {version}", f"version: {version + 1}", 1), encoding="utf-8")
    assert load_and_register(store, edited)["daily_health"].version == version + 1
    assert (store.get_questionnaire("daily_health", version).definition
            != store.get_questionnaire("daily_health", version + 1).definition)
