"""Static checks on the NLU training data and the held-out test sets.

No Rasa needed: parses the YAML and checks intents, duplicates and train/holdout separation.
"""
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TRAIN_DIR = ROOT / "nlu_data"
HOLDOUT_DIR = ROOT / "tests" / "nlu_holdout"

ALL_INTENTS = {
    "affirm", "deny", "not_sure", "inform", "opt_out", "ask_human", "repeat",
    "help", "greet", "goodbye", "out_of_scope", "start_questionnaire",
}
KO_INTENTS = {"affirm", "deny", "not_sure", "inform", "opt_out", "ask_human", "repeat", "greet", "goodbye"}
ENTITY_RE = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def _load(files):
    out = []
    for f in files:
        doc = yaml.safe_load(f.read_text(encoding="utf-8"))
        assert str(doc["version"]) == "3.1", f
        for block in doc["nlu"]:
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    out.append((block["intent"], line[2:], f))
    return out


def _norm(text):
    text = ENTITY_RE.sub(r"\1", text)
    return re.sub(r"[\s?!.,，。？！~]", "", text).lower()


TRAIN = _load(sorted(TRAIN_DIR.glob("*/*.yml")))
HOLDOUT = _load(sorted(HOLDOUT_DIR.glob("*.yml")))


def test_only_known_intents():
    assert {i for i, _, _ in TRAIN + HOLDOUT} <= ALL_INTENTS


@pytest.mark.parametrize("lang,intents,minimum", [("zh", ALL_INTENTS, 30), ("en", ALL_INTENTS, 30), ("ko", KO_INTENTS, 20)])
def test_every_intent_covered(lang, intents, minimum):
    counts = Counter(i for i, _, f in TRAIN if f.parent.name == lang)
    for intent in intents:
        assert counts[intent] >= minimum, (lang, intent, counts[intent])
    held = Counter(i for i, _, f in HOLDOUT if f.stem == lang)
    assert set(held) == intents


def test_only_place_entity_annotated():
    for _, text, f in TRAIN + HOLDOUT:
        for _, entity in ENTITY_RE.findall(text):
            assert entity == "place", (f, text)


def test_no_example_in_two_intents():
    for data in (TRAIN, HOLDOUT):
        seen = defaultdict(set)
        for intent, text, _ in data:
            seen[_norm(text)].add(intent)
        clashes = {t: i for t, i in seen.items() if len(i) > 1}
        assert not clashes


def test_holdout_not_in_training():
    train = {_norm(t) for _, t, _ in TRAIN}
    leaked = [t for _, t, _ in HOLDOUT if _norm(t) in train]
    assert not leaked
