"""The parsed form of a questionnaire: frozen dataclasses, built by ``campaigns.loader``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from campaigns.expr import Expr

__all__ = [
    "CONTEXT_NAMES",
    "LANGUAGES",
    "QUESTION_TYPES",
    "RISK_LEVELS",
    "UNITS",
    "Choice",
    "Question",
    "Questionnaire",
    "RiskRule",
]

LANGUAGES = ("zh", "en", "ko")
#: The built-in question types; the loader accepts every type registered in ``campaigns.qtypes``.
QUESTION_TYPES = ("yes_no", "yes_no_unsure", "number", "choice", "date", "place", "text")
RISK_LEVELS = ("high", "moderate", "low")
CONTEXT_NAMES = ("age",)
#: Units a number question may declare; the word said after the number is the catalogue's ``units.<name>``
#: (``campaigns/phrases.yml``; ``count`` says none). ``celsius`` also makes the answer read as a temperature
#: (三十七度五 = 37.5).
UNITS: tuple[str, ...] = ("celsius", "people", "days", "years", "count")

Text = dict[str, str]


@dataclass(frozen=True)
class Choice:
    """One option of a choice question; ``key`` is what gets stored."""

    key: str
    label: Text
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe copy."""
        return {"key": self.key, "label": dict(self.label),
                "synonyms": {k: list(v) for k, v in self.synonyms.items()}}


@dataclass(frozen=True)
class Question:
    """One question; its answer is stored under ``key``."""

    key: str
    type: str
    prompt: Text
    reprompt: Text = field(default_factory=dict)
    required: bool = True
    when: Expr | None = None
    max_tries: int = 2
    confirm_below: float = 0.6
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    decimals: int = 1
    choices: tuple[Choice, ...] = ()
    #: The resident may answer "did not measure / cannot know": stored as the value "unknown".
    allow_unknown: bool = False
    #: A place question: "city" (where from, where to: a named place) or "address" (a name and a number).
    detail: str = "city"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe copy (expressions as their source)."""
        data: dict[str, Any] = {
            "key": self.key, "type": self.type, "prompt": dict(self.prompt),
            "reprompt": dict(self.reprompt), "required": self.required,
            "when": self.when.source if self.when else None,
            "max_tries": self.max_tries, "confirm_below": self.confirm_below,
        }
        if self.type == "number":
            data.update(unit=self.unit, min=self.min, max=self.max, decimals=self.decimals)
        if self.type == "choice":
            data["choices"] = [c.to_dict() for c in self.choices]
        if self.allow_unknown:  # only when set, so older definitions keep their content hash
            data["allow_unknown"] = True
        if self.detail != "city":
            data["detail"] = self.detail
        return data


@dataclass(frozen=True)
class RiskRule:
    """``level`` applies when ``when`` is true; rules are tried in order."""

    level: str
    when: Expr


@dataclass(frozen=True)
class Questionnaire:
    """A whole questionnaire definition."""

    id: str
    version: int
    title: Text
    languages: tuple[str, ...]
    questions: tuple[Question, ...]
    derived: tuple[tuple[str, Expr], ...] = ()
    risk: tuple[RiskRule, ...] = ()
    default_risk: str = "low"
    closing: dict[str, Text] = field(default_factory=dict)
    intro: Text = field(default_factory=dict)
    source: str = field(default="", compare=False)

    def question(self, key: str) -> Question:
        """The question stored under ``key`` (KeyError if none)."""
        for q in self.questions:
            if q.key == key:
                return q
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        """Question keys in order."""
        return tuple(q.key for q in self.questions)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot, to be stored beside the answers it produced."""
        return {
            "id": self.id, "version": self.version, "title": dict(self.title),
            "languages": list(self.languages), "intro": dict(self.intro),
            "questions": [q.to_dict() for q in self.questions],
            "derived": [{"name": name, "expr": e.source} for name, e in self.derived],
            "risk": {"rules": [{"level": r.level, "when": r.when.source} for r in self.risk],
                     "default": self.default_risk},
            "closing": {k: dict(v) for k, v in self.closing.items()},
        }

    @property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of ``to_dict()``; stable across runs and formatting."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False,
                               separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
