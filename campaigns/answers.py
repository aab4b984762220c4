"""Decide one answer to one question, whether typed, spoken or keyed (DTMF): the results, and ``interpret``, which
hands the answer to the question's type (``campaigns.qtypes``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from campaigns import qtypes
from campaigns.questionnaire import Question
from campaigns.reading import Reading

__all__ = ["HEDGED", "NLU_YES_NO_MIN", "REASONS", "UNKNOWN", "Accepted", "NluHints", "Rejected", "Result", "clean",
           "from_reading", "interpret"]

REASONS = ("unintelligible", "out_of_range", "not_an_option", "empty", "ambiguous", "question")
#: The confidence of a hedged reading ("大概三十七度", "maybe"): below every question's ``confirm_below``
#: default, so the engine asks "您说的是37，对吗？" instead of storing it.
HEDGED = 0.5
#: A yes / no the words did not say but the NLU classifier is this sure of: confirmed, never stored as is.
NLU_YES_NO_MIN = 0.8
UNKNOWN = "unknown"
_PUNCT = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NluHints:
    """What an NLU (Rasa) made of the text: intent, its confidence, entities."""

    intent: str | None = None
    confidence: float = 0.0
    entities: Sequence[Mapping[str, Any]] = field(default_factory=tuple)

    def entity(self, *names: str) -> Any:
        """The value of the first entity named one of ``names`` (in that order), or None."""
        for name in names:
            for ent in self.entities:
                if ent.get("entity") == name and ent.get("value") not in (None, ""):
                    return ent["value"]
        return None


@dataclass(frozen=True)
class Accepted:
    """A valid answer: the value to store, the raw input, how sure we are of it."""

    value: Any
    raw: str
    confidence: float = 1.0


@dataclass(frozen=True)
class Rejected:
    """An answer that cannot be stored; ``reason`` is one of REASONS."""

    reason: str


Result = Accepted | Rejected


def clean(text: str) -> str:
    """NFKC, one space between words, no punctuation around, at most 500 characters."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return _PUNCT.sub("", text)[:500]


def interpret(question: Question, text: str, language: str, hints: NluHints | None = None,
              today: date | None = None, *, keypad: bool = False) -> Result:
    """Read ``text`` as an answer to ``question`` (same rules for chat, speech and keypad), by its question type."""
    raw = text or ""
    qtype = qtypes.require(question.type)
    if not clean(raw) and not qtype.symbol_answers(question, raw):
        return Rejected("empty")
    return qtype.interpret(question, raw, language, hints or NluHints(), today or date.today(), keypad)


def from_reading(question: Question, reading: Reading, raw: str) -> Result:
    """A reader's ``Reading`` as a result: a hedged value is stored only once confirmed."""
    if reading.kind == "value":
        return Accepted(reading.value.isoformat() if isinstance(reading.value, date) else reading.value, raw)
    if reading.kind == "hedged":
        value = reading.value.isoformat() if isinstance(reading.value, date) else reading.value
        return Accepted(value, raw, HEDGED)
    if reading.kind == "unknown" and question.allow_unknown:
        return Accepted(UNKNOWN, raw)
    if reading.kind in ("ambiguous", "question"):
        return Rejected(reading.kind)
    return Rejected("unintelligible")
