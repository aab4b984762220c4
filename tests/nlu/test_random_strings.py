"""5,000 random and foreign strings, read with the trained model's NLU hints by the questionnaire runner at every
question of every questionnaire, opt no one out and store nothing wrong-looking (the cheap path beside the
2,000 turns through the whole Rasa stack in tests/dialogs/test_no_false_opt_outs.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from campaigns import QUESTIONNAIRE_DIR, load_directory
from campaigns.engine import RunState
from campaigns.runner import take_turn
from gridreach_app.answer_report import agent_parser
from gridreach_app.model import PROJECT_ROOT, ensure_model
from tests.dialogs.test_no_false_opt_outs import random_strings


@pytest.fixture(scope="module")
def model_path() -> Path:
    return ensure_model(PROJECT_ROOT / "models", quiet=True)


def test_random_strings_opt_no_one_out_at_any_question(model_path: Path) -> None:
    from rasa.core.agent import Agent

    parse = agent_parser(Agent.load(str(model_path)))
    questionnaires = load_directory(QUESTIONNAIRE_DIR)
    places = [(q, question.key) for q in questionnaires.values() for question in q.questions]
    outcomes: Counter[str] = Counter()
    stored: list[tuple[str, str, object]] = []
    for i, text in enumerate(random_strings(5000, seed=11)):
        q, key = places[i % len(places)]
        state = RunState(q.id, q.version, q.languages[i % len(q.languages)], current=key,
                         content_hash=q.content_hash)
        turn = take_turn(q, state, text, hints=parse(text), context={"today": "2026-03-10"})
        outcomes[turn.interrupt or ("stored" if turn.step.accepted else "asked")] += 1
        if turn.step.accepted is not None and q.question(key).type not in ("text", "place"):
            stored.append((key, text, turn.step.accepted.value))
    assert outcomes["opt_out"] == 0, outcomes
    assert outcomes["asked"] > 4000, outcomes
    # a random string is no health answer: only a few hold a plain digit or a yes/no word by chance
    assert len(stored) < 100, stored[:20]
