"""The same inputs train the same model: a second training, with other thread settings, predicts exactly what the
model under test predicts, on the held-out sets and on the answer corpus (issue: the same model everywhere).

The intent classifier is scikit-learn's LogisticRegression (lbfgs, fixed random_state) on sparse count features:
no random initialisation, no dropout, no GPU or thread-order float sums, so two machines agree.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path
from typing import Any

import pytest

from gridreach_app.answer_report import load_corpus
from gridreach_app.model import PROJECT_ROOT, ensure_model
from gridreach_app.nlu_report import HOLDOUT_DIR, holdout_examples


def _texts() -> list[str]:
    texts = [t for lang in ("zh", "en", "ko") for t, _ in holdout_examples(HOLDOUT_DIR / f"{lang}.yml")]
    corpus = [str(i["reply"]) for i in load_corpus()]
    return texts + random.Random(5).sample(corpus, 1500)


def _predictions(model: Path, texts: list[str]) -> list[tuple[str, float]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse_all() -> list[tuple[str, float]]:
        out = []
        for text in texts:
            intent = (await agent.parse_message(text))["intent"]
            out.append((intent["name"], round(float(intent["confidence"]), 6)))
        return out

    return asyncio.run(parse_all())


@pytest.fixture(scope="module")
def retrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")  # another "machine": one thread
    try:
        return ensure_model(tmp_path_factory.mktemp("retrain"), quiet=True)
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def test_two_trainings_predict_the_same(retrained: Path) -> None:
    texts = _texts()
    first = _predictions(ensure_model(PROJECT_ROOT / "models", quiet=True), texts)
    second = _predictions(retrained, texts)
    differing: list[Any] = [(t, a, b) for t, a, b in zip(texts, first, second, strict=True) if a != b]
    assert len(texts) >= 1900
    assert differing == []
