"""Shared fixtures: the shipped questionnaires, loaded once."""

from __future__ import annotations

import pytest

from campaigns import QUESTIONNAIRE_DIR, Questionnaire, load_directory


@pytest.fixture(scope="session")
def questionnaires() -> dict[str, Questionnaire]:
    return load_directory(QUESTIONNAIRE_DIR)


@pytest.fixture(scope="session")
def daily(questionnaires: dict[str, Questionnaire]) -> Questionnaire:
    return questionnaires["daily_health"]
