"""The held-out answer corpus (``tests/answer_corpus/``) through the NLU and the questionnaire engine.

Each reply is parsed by the trained Rasa NLU (its intent and entities become the engine's hints, as in the form's
validator) and handed to ``campaigns.runner.take_turn`` at its question. The outcome is what the resident's reply
would do: store a value, ask back (a confirmation, a re-ask), or opt them out. ``reports/nlu/answers.md`` and
``answers.json`` give, per language and question type: wrong stored values (aim 0, bar 0.5%), replies understood
at the first reply (bar 90%), and false opt-outs (bar 0).
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from campaigns.answers import NluHints
from campaigns.engine import RunState
from campaigns.loader import load_directory
from campaigns.questionnaire import Questionnaire
from campaigns.runner import take_turn
from gridreach_app.model import PROJECT_ROOT

__all__ = [
    "BARS",
    "CORPUS_DAY",
    "CORPUS_DIR",
    "Outcome",
    "evaluate_corpus",
    "load_corpus",
    "run_item",
    "write_answers_report",
]

CORPUS_DIR = PROJECT_ROOT / "tests" / "answer_corpus"
CORPUS_DAY = date(2026, 3, 10)
TYPES = ("yes_no", "yes_no_unsure", "temperature", "number", "date", "place", "choice")
#: wrong stored at most, understood at the first reply at least, false opt-outs at most.
BARS = {"wrong": 0.005, "understood": 0.90, "false_opt_outs": 0}
_ASK_LABELS = ("ask_again",)

Parse = Callable[[str], NluHints]


@dataclass(frozen=True)
class Outcome:
    """What one reply did: ``stored`` (with ``value``), ``confirm`` (asked back), ``ask`` or ``opt_out``."""

    kind: str
    value: Any = None


def load_corpus(directory: Path = CORPUS_DIR) -> list[dict[str, Any]]:
    """Every item of every corpus file, with its file's language and type."""
    items = []
    for path in sorted(directory.glob("*/*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data["items"]:
            items.append({**item, "language": data["language"], "type": data["type"], "file": path.name})
    return items


def _state_at(q: Questionnaire, key: str, language: str) -> RunState:
    """A run of ``q`` whose open question is ``key`` (earlier answers set so that its ``when`` holds)."""
    answers: dict[str, Any] = {}
    if q.id == "daily_health" and key == "travel_place":
        answers["travel"] = "yes"
    if q.id == "traveller" and key == "transport_no":
        answers["transport"] = "train"
    return RunState(q.id, q.version, language, answers=answers, current=key, content_hash=q.content_hash)


def run_item(questionnaires: dict[str, Questionnaire], item: dict[str, Any], parse: Parse | None) -> Outcome:
    """The outcome of one corpus reply at its question."""
    qid, key = item["q"].split(".", 1)
    q = questionnaires[qid]
    reply = str(item["reply"])
    hints = parse(reply) if parse else None
    turn = take_turn(q, _state_at(q, key, item["language"]), reply, hints=hints,
                     context={"today": CORPUS_DAY.isoformat()})
    step = turn.step
    if turn.interrupt == "opt_out":
        return Outcome("opt_out")
    if step.accepted is not None:
        return Outcome("stored", step.accepted.value)
    if step.state.pending_confirmation is not None or step.state.pending_interrupt is not None:
        return Outcome("confirm")
    return Outcome("ask")


def _fold(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    return re.sub(r"[\s\W_]+", "", text)


def _same(expected: Any, stored: Any, qtype: str) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(stored, (int, float)) and abs(float(stored) - float(expected)) < 1e-6
    if qtype == "place":
        want, got = _fold(expected), _fold(stored)
        return bool(want) and want in got  # the place is in what was kept
    return _fold(expected) == _fold(stored)


def judge(item: dict[str, Any], outcome: Outcome) -> str:
    """``right`` (stored as labelled), ``asked`` (not stored: fine for ask_again), ``wrong`` (a value the
    resident did not give was stored), ``missed`` (a value or opt-out not taken at once), ``false_opt_out``."""
    expect = item["expect"]
    if isinstance(expect, date):
        expect = expect.isoformat()
    if outcome.kind == "opt_out":
        return "right" if expect == "opt_out" else "false_opt_out"
    if outcome.kind == "stored":
        if expect in _ASK_LABELS or expect == "opt_out":
            return "wrong"
        return "right" if _same(expect, outcome.value, item["type"]) else "wrong"
    return "asked" if expect in _ASK_LABELS else "missed"


def evaluate_corpus(items: Iterable[dict[str, Any]], parse: Parse | None,
                    questionnaires: dict[str, Questionnaire] | None = None) -> dict[str, Any]:
    """Figures per language and type, the totals, and every wrong or falsely opted-out reply."""
    qs = questionnaires or load_directory(PROJECT_ROOT / "campaigns" / "questionnaires")
    groups: dict[tuple[str, str], dict[str, int]] = {}
    failures: list[dict[str, Any]] = []
    for item in items:
        outcome = run_item(qs, item, parse)
        verdict = judge(item, outcome)
        counts = groups.setdefault((item["language"], item["type"]), {})
        counts[verdict] = counts.get(verdict, 0) + 1
        counts["items"] = counts.get("items", 0) + 1
        if item["expect"] not in _ASK_LABELS:
            counts["answerable"] = counts.get("answerable", 0) + 1
        if verdict in ("wrong", "false_opt_out", "missed"):
            failures.append({"language": item["language"], "q": item["q"], "reply": item["reply"],
                             "expect": str(item["expect"]), "got": outcome.kind,
                             "value": None if outcome.value is None else str(outcome.value), "verdict": verdict})
    rows = []
    for (lang, qtype), c in sorted(groups.items()):
        rows.append({"language": lang, "type": qtype, **_figures(c)})
    total: dict[str, int] = {}
    for c in groups.values():
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return {"rows": rows, "total": _figures(total), "failures": failures}


def _figures(c: dict[str, int]) -> dict[str, Any]:
    items, answerable = c.get("items", 0), c.get("answerable", 0)
    return {
        "items": items,
        "wrong": c.get("wrong", 0),
        "wrong_rate": round(c.get("wrong", 0) / items, 4) if items else 0.0,
        "understood": round(c.get("right", 0) / answerable, 4) if answerable else 1.0,
        "false_opt_outs": c.get("false_opt_out", 0),
        "asked_back": c.get("asked", 0) + c.get("missed", 0),
    }


def meets_bars(figures: dict[str, Any]) -> bool:
    return (figures["wrong_rate"] <= BARS["wrong"] and figures["understood"] >= BARS["understood"]
            and figures["false_opt_outs"] <= BARS["false_opt_outs"])


def agent_parser(agent: Any) -> Parse:
    """The trained model's NLU as the engine's hints (intent, its confidence, entities)."""
    loop = asyncio.new_event_loop()

    def parse(text: str) -> NluHints:
        parsed = loop.run_until_complete(agent.parse_message(text))
        intent = parsed.get("intent") or {}
        return NluHints(intent.get("name"), float(intent.get("confidence") or 0.0),
                        tuple(parsed.get("entities") or ()))

    return parse


def write_answers_report(agent: Any, model_name: str, report_dir: Path) -> bool:
    """Write ``answers.md`` and ``answers.json`` into ``report_dir``; True when the totals meet the bars."""
    result = evaluate_corpus(load_corpus(), agent_parser(agent))
    result["model"] = model_name
    (report_dir / "answers.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    t = result["total"]
    lines = [
        "# Residents' answers: the held-out corpus", "",
        f"Model `{model_name}`; corpus `tests/answer_corpus/` (never trained on; corpus day {CORPUS_DAY}). Each reply "
        "goes through the NLU and the questionnaire engine at its question. Bars: wrong stored values "
        f"<= {BARS['wrong']:.1%}, understood at the first reply >= {BARS['understood']:.0%}, false opt-outs 0.",
        "", f"**All: {t['items']} replies, wrong stored {t['wrong']} ({t['wrong_rate']:.2%}), understood at the first "
        f"reply {t['understood']:.1%}, false opt-outs {t['false_opt_outs']}, asked back {t['asked_back']}. "
        f"Meets the bars: {'yes' if meets_bars(t) else 'NO'}.**", "",
        "| language | type | replies | wrong stored | understood first time | false opt-outs | asked back |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["rows"]:
        lines.append(f"| {r['language']} | {r['type']} | {r['items']} | {r['wrong']} ({r['wrong_rate']:.2%}) | "
                     f"{r['understood']:.1%} | {r['false_opt_outs']} | {r['asked_back']} |")
    wrong = [f for f in result["failures"] if f["verdict"] != "missed"]
    lines += ["", "## Stored wrong or opted out falsely", ""]
    lines += [f"- {f['language']} `{f['q']}` «{f['reply']}»: expected {f['expect']}, got {f['got']} {f['value'] or ''}"
              for f in wrong] or ["None."]
    lines += ["", "Replies asked back although they held a value are listed in `answers.json` (`missed`).",
              "Regenerate: `make nlu-report`."]
    (report_dir / "answers.md").write_text("\n".join(lines) + "\n")
    print(f"answers: {t['items']} replies, wrong {t['wrong_rate']:.2%}, understood {t['understood']:.1%}, "
          f"false opt-outs {t['false_opt_outs']}")
    return meets_bars(t)
