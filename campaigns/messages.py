"""The texts the engine says around the questions: reprompts, reasons, confirmations, skip and goodbye.

The wording is the phrase catalogue's (``campaigns/phrases.yml``: ``engine.*``, ``units.*``); each type's default
reprompt (``qtypes.<type>.reprompt``) and way of saying a value back are its module's (``campaigns.qtypes``).
"""

from __future__ import annotations

from typing import Any

from campaigns import qtypes
from campaigns.phrases import phrase
from campaigns.questionnaire import UNITS, Question

__all__ = [
    "confirm_text", "goodbye_text", "reason_text", "render_value", "reprompt_text", "say_number",
    "skip_text", "unit_text",
]

def say_number(value: float) -> str:
    """37.0 → "37", 37.5 → "37.5"."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def unit_text(question: Question, lang: str) -> str:
    """The unit of a number question as said after the number (" degrees Celsius", "度")."""
    unit = question.unit or "count"
    word = phrase(f"units.{unit}", lang) if unit in UNITS and unit != "count" else ""
    return f" {word}" if word and lang != "zh" else word


def reprompt_text(question: Question, lang: str) -> str:
    """The question's own reprompt, or the default for its type."""
    if lang in question.reprompt:
        return question.reprompt[lang]
    return qtypes.require(question.type).reprompt(question, lang)


def reason_text(question: Question, reason: str, lang: str) -> str:
    """What to say after a Rejected answer: the allowed range, the options, or the reprompt."""
    if reason == "out_of_range" and question.min is not None and question.max is not None:
        return phrase("engine.out_of_range", lang, min=say_number(question.min), max=say_number(question.max),
                      unit=unit_text(question, lang))
    if reason == "not_an_option":  # the type's own reprompt (with the options), not the question's
        return qtypes.require(question.type).reprompt(question, lang)
    if reason == "question":  # the resident asked back: the question itself again
        return question.prompt[lang]
    if reason == "ambiguous":
        return f"{phrase('engine.ambiguous', lang)}{'' if lang == 'zh' else ' '}{reprompt_text(question, lang)}"
    return reprompt_text(question, lang)


def render_value(question: Question, value: Any, lang: str) -> str:
    """A stored value as the resident would say it back."""
    return qtypes.require(question.type).render(question, value, lang)


def confirm_text(question: Question, value: Any, lang: str) -> str:
    """"您说的是37.5摄氏度，对吗？" / "You said 37.5 degrees Celsius, is that right?"."""
    return phrase("engine.confirm", lang, value=render_value(question, value, lang))


def skip_text(lang: str) -> str:
    """Said when a question is given up after too many tries."""
    return phrase("engine.skip", lang)


def goodbye_text(lang: str) -> str:
    """Said when the resident opts out."""
    return phrase("engine.goodbye", lang)
