"""What answer the current question expects, as data for channels: the one typed ``Expect``.

After each question the dialogue sends one extra message ``{"expect": expectation(q, state)}`` (``Expect.to_payload``):
chat connectors turn its options into buttons or numbered choices, the voice caller builds its recogniser grammar
and keypad map from it. Consumers read it back with ``Expect.from_payload`` — never by hand — and ask the question
type (``campaigns.qtypes``) what to offer, listen for and how keys answer. Keypad digits are the ones the engine
accepts with ``keypad=True`` (1 yes, 2 no, 3 not sure; choices 1..n).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaigns import qtypes
from campaigns.engine import RunState
from campaigns.messages import confirm_text
from campaigns.phrases import phrase
from campaigns.qtypes.base import Option
from campaigns.questionnaire import Questionnaire

__all__ = ["Expect", "Option", "expect_for", "expectation"]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Expect:
    """The answer expected to the question now asked: its key, type, options (label, keypad digit), range."""

    questionnaire: str
    question: str
    type: str
    language: str | None
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    prompt: str = ""

    def to_payload(self) -> dict[str, Any]:
        """The JSON-safe dict sent in the dialogue's custom message."""
        return {
            "questionnaire": self.questionnaire,
            "question": self.question,
            "type": self.type,
            "language": self.language,
            "options": [{"value": o.value, "label": o.label, "keypad": o.keypad} for o in self.options],
            "min": self.min,
            "max": self.max,
            "unit": self.unit,
            "prompt": self.prompt,
        }

    @classmethod
    def from_payload(cls, payload: Any) -> Expect | None:
        """The ``Expect`` of a payload; None when there is none or it is not one (no mapping, no type).

        Tolerant field by field: a missing or garbled field gets its default, an option that is no mapping is dropped.
        """
        if not isinstance(payload, Mapping):
            return None
        kind = payload.get("type")
        if not isinstance(kind, str) or not kind:
            return None
        raw_options = payload.get("options")
        options: list[Option] = []
        for o in raw_options if isinstance(raw_options, (list, tuple)) else ():
            if isinstance(o, Mapping):
                value = o.get("value", "")
                label = o.get("label", value)
                options.append(Option(str(value or ""), "" if label is None else str(label),
                                      str(o.get("keypad") or "")))
        language, unit = payload.get("language"), payload.get("unit")
        return cls(
            questionnaire=str(payload.get("questionnaire") or ""),
            question=str(payload.get("question") or ""),
            type=kind,
            language=str(language) if language else None,
            options=tuple(options),
            min=_number(payload.get("min")),
            max=_number(payload.get("max")),
            unit=str(unit) if unit else None,
            prompt=str(payload.get("prompt") or ""),
        )

    def option(self, keypad: str) -> Option | None:
        """The option answered by the key ``keypad``, if any."""
        return next((o for o in self.options if o.keypad and o.keypad == keypad), None)


def expect_for(q: Questionnaire, state: RunState) -> Expect | None:
    """The expected answer to the question now asked, or None when nothing is being asked."""
    if state.status != "in_progress" or state.current is None:
        return None
    question = q.question(state.current)
    lang = state.language
    confirming = state.pending_confirmation is not None or state.pending_interrupt is not None
    kind = "confirm" if confirming else question.type
    options = qtypes.require(kind).options(question, lang)
    if state.pending_interrupt is not None:
        prompt = phrase(f"confirm_{state.pending_interrupt}", lang)
    elif state.pending_confirmation is not None:
        prompt = confirm_text(question, state.pending_confirmation["value"], lang)
    else:
        prompt = question.prompt[lang]
    ranged = qtypes.require(question.type).ranged
    return Expect(
        questionnaire=q.id,
        question=question.key,
        type=kind,
        language=lang,
        options=tuple(options),
        min=question.min if ranged else None,
        max=question.max if ranged else None,
        unit=question.unit if ranged else None,
        prompt=prompt,
    )


def expectation(q: Questionnaire, state: RunState) -> dict[str, Any] | None:
    """``expect_for`` as the payload the dialogue sends."""
    found = expect_for(q, state)
    return None if found is None else found.to_payload()
