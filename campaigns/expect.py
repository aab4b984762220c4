"""What answer the current question expects, as data for channels.

After each question the dialogue sends one extra message ``{"expect": expectation(q, state)}``: chat connectors turn
its options into buttons or numbered choices, the voice caller builds its recogniser grammar and keypad map from it.
Keypad digits are the ones the engine accepts with ``keypad=True`` (1 yes, 2 no, 3 not sure; choices 1..n).
"""

from __future__ import annotations

from typing import Any

from campaigns.engine import RunState
from campaigns.messages import confirm_text, render_value
from campaigns.phrases import phrase
from campaigns.questionnaire import Questionnaire

__all__ = ["expectation"]

_YES_NO_VALUES = {"yes_no": ("yes", "no"), "yes_no_unsure": ("yes", "no", "not_sure"), "confirm": ("yes", "no")}
_CONFIRM_LABELS = {"zh": {"yes": "对", "no": "不对"}, "en": {"yes": "yes", "no": "no"},
                   "ko": {"yes": "네", "no": "아니요"}}


def expectation(q: Questionnaire, state: RunState) -> dict[str, Any] | None:
    """The expected answer to the question now asked, or None when nothing is being asked."""
    if state.status != "in_progress" or state.current is None:
        return None
    question = q.question(state.current)
    lang = state.language
    confirming = state.pending_confirmation is not None or state.pending_interrupt is not None
    kind = "confirm" if confirming else question.type
    options: list[dict[str, str]] = []
    if kind == "confirm":
        options = [{"value": v, "label": _CONFIRM_LABELS[lang][v], "keypad": str(i)}
                   for i, v in enumerate(_YES_NO_VALUES["confirm"], 1)]
    elif kind in _YES_NO_VALUES:
        options = [{"value": v, "label": render_value(question, v, lang), "keypad": str(i)}
                   for i, v in enumerate(_YES_NO_VALUES[kind], 1)]
    elif kind == "choice":
        options = [{"value": c.key, "label": c.label[lang], "keypad": str(i)}
                   for i, c in enumerate(question.choices, 1)]
    if state.pending_interrupt is not None:
        prompt = phrase(f"confirm_{state.pending_interrupt}", lang)
    elif state.pending_confirmation is not None:
        prompt = confirm_text(question, state.pending_confirmation["value"], lang)
    else:
        prompt = question.prompt[lang]
    return {
        "questionnaire": q.id,
        "question": question.key,
        "type": kind,
        "language": lang,
        "options": options,
        "min": question.min if question.type == "number" else None,
        "max": question.max if question.type == "number" else None,
        "unit": question.unit if question.type == "number" else None,
        "prompt": prompt,
    }
