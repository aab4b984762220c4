"""Evaluate the trained model's intents on the held-out sets (``tests/nlu_holdout/<lang>.yml``).

Writes ``reports/nlu/<lang>.json`` (per-intent precision, recall, F1 and the confusions) and
``reports/nlu/summary.md``. The bar is intent macro-F1 >= 0.95 for each language. Then the held-out answer corpus
(``gridreach_app.answer_report``): ``reports/nlu/answers.md``.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

from gridreach.settings import Settings
from gridreach_app.answer_report import write_answers_report
from gridreach_app.logs import quiet_rasa
from gridreach_app.model import PROJECT_ROOT, ensure_model

__all__ = ["BAR", "HOLDOUT_DIR", "evaluate", "holdout_examples", "write_report"]

HOLDOUT_DIR = PROJECT_ROOT / "tests" / "nlu_holdout"
REPORT_DIR = PROJECT_ROOT / "reports" / "nlu"
BAR = 0.95


def holdout_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = RasaYAMLReader().read(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def evaluate(agent: Any, examples: list[tuple[str, str]]) -> dict[str, Any]:
    """Parse each example with the agent; per-intent and macro-averaged scores."""
    from sklearn.metrics import precision_recall_fscore_support

    async def parse_all() -> list[str]:
        out = []
        for text, _ in examples:
            parsed = await agent.parse_message(text)
            out.append((parsed.get("intent") or {}).get("name") or "none")
        return out

    predicted = asyncio.run(parse_all())
    truth = [intent for _, intent in examples]
    labels = sorted(set(truth))
    p, r, f, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    confusions = Counter((t, pr) for t, pr in zip(truth, predicted, strict=True) if t != pr)
    return {
        "examples": len(examples),
        "macro_f1": round(float(f.mean()), 4),
        "accuracy": round(sum(t == pr for t, pr in zip(truth, predicted, strict=True)) / len(truth), 4),
        "intents": {
            label: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                    "f1": round(float(f[i]), 4), "support": int(support[i])}
            for i, label in enumerate(labels)
        },
        "confusions": [{"intent": t, "predicted": pr, "count": n} for (t, pr), n in confusions.most_common()],
    }


def write_report(settings: Settings) -> int:
    from rasa.core.agent import Agent

    quiet_rasa()
    model = ensure_model(settings.model_dir)
    agent = Agent.load(str(model))
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    lines = ["# NLU evaluation on the held-out sets", "",
             f"Model `{model.name}`; held-out sets `tests/nlu_holdout/` (never trained on). Bar: intent macro-F1 >= {BAR}.",
             "", "| language | examples | accuracy | intent macro-F1 | meets bar |", "| --- | --- | --- | --- | --- |"]
    ok = True
    for path in sorted(HOLDOUT_DIR.glob("*.yml")):
        result = evaluate(agent, holdout_examples(path))
        result["model"] = model.name
        (REPORT_DIR / f"{path.stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        meets = result["macro_f1"] >= BAR
        ok &= meets
        lines.append(f"| {path.stem} | {result['examples']} | {result['accuracy']:.3f} | {result['macro_f1']:.3f} | "
                     f"{'yes' if meets else 'NO'} |")
        print(f"{path.stem}: {result['examples']} examples, intent macro-F1 {result['macro_f1']:.3f}")
    lines += ["", "Per-intent scores and confusions: `reports/nlu/<language>.json`. Regenerate: `make nlu-report`.",
              "Residents' answers to each question type, through the NLU and the questionnaire engine: `answers.md`."]
    (REPORT_DIR / "summary.md").write_text("\n".join(lines) + "\n")
    ok &= write_answers_report(agent, model.name, REPORT_DIR)
    print(f"Wrote {REPORT_DIR.relative_to(PROJECT_ROOT)}/")
    return 0 if ok else 1
