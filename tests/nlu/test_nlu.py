"""The trained model on the held-out sets, and the values it extracts."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridreach_app.model import PROJECT_ROOT, ensure_model
from gridreach_app.nlu_report import BAR, HOLDOUT_DIR, REPORT_DIR, evaluate, holdout_examples

LANGUAGES = ["zh", "en", "ko"]


@pytest.fixture(scope="module")
def model_path() -> Path:
    return ensure_model(PROJECT_ROOT / "models", quiet=True)


@pytest.fixture(scope="module")
def agent(model_path: Path) -> Any:
    from rasa.core.agent import Agent

    return Agent.load(str(model_path))


def parse(agent: Any, text: str) -> dict[str, Any]:
    return asyncio.run(agent.parse_message(text))


def entity(parsed: dict[str, Any], name: str) -> Any:
    return next((e["value"] for e in parsed["entities"] if e["entity"] == name), None)


@pytest.mark.parametrize("language", LANGUAGES)
def test_intent_macro_f1_meets_the_bar_on_held_out_data(agent: Any, language: str) -> None:
    result = evaluate(agent, holdout_examples(HOLDOUT_DIR / f"{language}.yml"))
    assert result["examples"] >= 80
    assert result["macro_f1"] >= BAR, result["confusions"][:10]


def test_held_out_sentences_are_not_in_the_training_data() -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    trained = {m.get("text") for m in load_data(str(PROJECT_ROOT / "nlu_data")).intent_examples}
    for language in LANGUAGES:
        held_out = {text for text, _ in holdout_examples(HOLDOUT_DIR / f"{language}.yml")}
        assert not trained & held_out, sorted(trained & held_out)[:5]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_report_is_for_the_current_model(model_path: Path, language: str) -> None:
    report = json.loads((REPORT_DIR / f"{language}.json").read_text())
    assert report["model"] == model_path.name, "run `make nlu-report` and commit reports/nlu/"
    assert report["macro_f1"] >= BAR


@pytest.mark.parametrize(
    ("text", "name", "value"),
    [
        ("三十七度五", "temperature", 37.5),
        ("37度5", "temperature", 37.5),
        ("37.5", "temperature", 37.5),
        ("三十八度", "temperature", 38.0),
        ("体温三十六度八", "temperature", 36.8),
        ("삼십칠 점 오", "temperature", 37.5),
        ("一百二十个人", "number", 120.0),
        ("坐的G1234次高铁", "transport_no", "G1234"),
    ],
)
def test_values_are_normalised(agent: Any, text: str, name: str, value: Any) -> None:
    assert entity(parse(agent, text), name) == value


def test_dates_are_normalised(agent: Any) -> None:
    today = date.today()
    assert entity(parse(agent, "昨天到的"), "date") == (today - timedelta(days=1)).isoformat()
    assert entity(parse(agent, "3 days ago"), "date") == (today - timedelta(days=3)).isoformat()
    feb3 = date(today.year if (today.month, today.day) >= (2, 3) else today.year - 1, 2, 3)
    assert entity(parse(agent, "二月三号"), "date") == feb3.isoformat()


@pytest.mark.parametrize(
    ("text", "intent"),
    [("没有", "deny"), ("无", "deny"), ("不是", "deny"), ("有", "affirm"), ("不知道", "not_sure"),
     ("别再打了", "opt_out"), ("stop", "opt_out"), ("找人工", "ask_human"), ("아니요", "deny"), ("네", "affirm")],
)
def test_short_answers(agent: Any, text: str, intent: str) -> None:
    assert parse(agent, text)["intent"]["name"] == intent


def test_rasa_data_validate_is_clean() -> None:
    import subprocess
    import sys

    # Plain `rasa data validate`: the default paths (domain.yml, data/) lead to dialogs/ and nlu_data/.
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    complaints = [line for line in output.splitlines()
                  if ("WARNING" in line or "UserWarning" in line or "ERROR" in line) and "Deprecat" not in line]
    assert not complaints, complaints


@pytest.mark.parametrize("stories", ["tests/rasa_stories", "data"])
def test_rasa_test_core_passes_the_stories(model_path: Path, tmp_path: Path, stories: str) -> None:
    """The end-to-end test stories (with user text), and the training stories as plain `rasa test core` runs them."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "rasa", "test", "core", "--stories", stories, "--model", str(model_path),
         "--out", str(tmp_path)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    report = json.loads((tmp_path / "story_report.json").read_text())
    assert report["conversation_accuracy"]["total"] >= 4
    assert report["conversation_accuracy"]["correct"] == report["conversation_accuracy"]["total"]
