"""The held-out answer corpus through the trained NLU and the questionnaire engine meets the bars, and the committed
report (``reports/nlu/answers.md``) is for the current model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaigns import QUESTIONNAIRE_DIR, load_directory
from gridreach_app.answer_report import BARS, CORPUS_DIR, TYPES, agent_parser, evaluate_corpus, load_corpus
from gridreach_app.model import PROJECT_ROOT, ensure_model
from gridreach_app.nlu_report import REPORT_DIR


@pytest.fixture(scope="module")
def model_path() -> Path:
    return ensure_model(PROJECT_ROOT / "models", quiet=True)


@pytest.fixture(scope="module")
def result(model_path: Path) -> dict[str, Any]:
    from rasa.core.agent import Agent

    return evaluate_corpus(load_corpus(), agent_parser(Agent.load(str(model_path))))


def test_the_corpus_is_big_enough_and_well_formed() -> None:
    questionnaires = load_directory(QUESTIONNAIRE_DIR)
    for lang in ("zh", "en", "ko"):
        for qtype in TYPES:
            data = yaml.safe_load((CORPUS_DIR / lang / f"{qtype}.yml").read_text(encoding="utf-8"))
            assert (data["language"], data["type"]) == (lang, qtype)
            assert len(data["items"]) >= 300, (lang, qtype)
            for item in data["items"]:
                qid, key = item["q"].split(".")
                question = questionnaires[qid].question(key)
                assert lang in questionnaires[qid].languages
                assert question.type == {"temperature": "number", "number": "number"}.get(qtype, qtype), item
                if qtype == "choice" and item["expect"] not in ("ask_again", "opt_out"):
                    assert item["expect"] in {c.key for c in question.choices}, item


def test_the_corpus_never_trains_anything() -> None:
    from gridreach_app.model import model_inputs

    assert not [p for p in model_inputs() if CORPUS_DIR in p.parents]
    from rasa.shared.nlu.training_data.loading import load_data

    trained = {m.get("text") for m in load_data(str(PROJECT_ROOT / "nlu_data")).intent_examples}
    replies = {str(i["reply"]) for i in load_corpus()}
    # the same short answers ("no", "没有", "네") are in both, as people say them; nothing longer is shared much
    assert len(trained & replies) < 0.05 * len(replies)


def test_no_wrong_stored_values_and_no_false_opt_outs(result: dict[str, Any]) -> None:
    total = result["total"]
    wrong = [f for f in result["failures"] if f["verdict"] == "wrong"]
    assert total["wrong_rate"] <= BARS["wrong"], wrong[:20]
    assert total["false_opt_outs"] == 0, [f for f in result["failures"] if f["verdict"] == "false_opt_out"]


def test_most_replies_are_understood_at_the_first_reply(result: dict[str, Any]) -> None:
    assert result["total"]["understood"] >= BARS["understood"]


def test_the_committed_report_is_for_the_current_model(model_path: Path, result: dict[str, Any]) -> None:
    report = json.loads((REPORT_DIR / "answers.json").read_text(encoding="utf-8"))
    assert report["model"] == model_path.name, "run `make nlu-report` and commit reports/nlu/"
    assert report["total"] == result["total"], "run `make nlu-report` and commit reports/nlu/"
    assert (REPORT_DIR / "answers.md").read_text(encoding="utf-8").startswith("# Residents' answers")
