"""The demo's scripted residents produce, in the pure engine, the outcomes the demo checks the database for."""

from __future__ import annotations

from collections import Counter

import pytest

from campaigns import QUESTIONNAIRE_DIR, engine, load_directory, take_turn
from gridreach_demo.screening import assign, load_scenarios

QUESTIONNAIRE_ID, SCENARIOS = load_scenarios()
Q = load_directory(QUESTIONNAIRE_DIR)[QUESTIONNAIRE_ID]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
@pytest.mark.parametrize("language", ["zh", "en", "ko"])
def test_scenario_outcome(scenario, language: str) -> None:
    replies = scenario.replies[language]
    if scenario.status == "not_reached":
        assert replies == []
        return
    state = engine.start(Q, language, {"age": 40}).state
    for text in replies:
        state = take_turn(Q, state, text, context={"age": 40}).step.state
    assert state.status == scenario.status
    assert state.risk == scenario.risk


def test_assignment_is_stable_and_spread() -> None:
    picks = Counter(assign(i, SCENARIOS).name for i in range(1, 2001))
    assert set(picks) == {s.name for s in SCENARIOS}
    assert assign(17, SCENARIOS) == assign(17, SCENARIOS)
    total = sum(s.share for s in SCENARIOS)
    for s in SCENARIOS:
        assert abs(picks[s.name] / 2000 - s.share / total) < 0.03
