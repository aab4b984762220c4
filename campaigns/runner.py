"""One turn of a run without an NLU: interruptions first (keywords), then the engine.

The voice caller (keypad and recognised speech) and the conversation tests use this; in
the Rasa path the NLU detects interruptions instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaigns import engine, messages
from campaigns.answers import Accepted, NluHints, interpret
from campaigns.engine import RunState, Step
from campaigns.interrupts import INTERRUPTS, detect_interrupt
from campaigns.phrases import phrase
from campaigns.questionnaire import Questionnaire

__all__ = ["Turn", "take_turn"]


_FREE_TEXT = ("place", "text")


def _interruption(q: Questionnaire, state: RunState, text: str, hints: NluHints | None,
                  keypad: bool) -> str | None:
    if keypad:
        key = text.strip().rstrip("#")
        if key == "*":
            return "repeat"
        if key == "0" and not _keypad_answer(q, state, key):
            return "ask_human"  # "0" for a person, as phone menus have it (unless 0 answers this question)
        return None
    keyword = detect_interrupt(text, state.language)
    if hints is None or hints.intent not in INTERRUPTS:
        return keyword
    free_text = (state.current is not None and state.pending_confirmation is None
                 and q.question(state.current).type in _FREE_TEXT)
    return keyword if free_text else (keyword or hints.intent)


def _keypad_answer(q: Questionnaire, state: RunState, key: str) -> bool:
    if state.current is None:
        return False
    if state.pending_confirmation is not None:
        return False
    question = q.question(state.current)
    return isinstance(interpret(question, key, state.language, None, keypad=True), Accepted)


@dataclass(frozen=True)
class Turn:
    """The step taken, and the interruption that caused it (None for an answer)."""

    step: Step
    interrupt: str | None = None


def take_turn(q: Questionnaire, state: RunState, text: str, *, hints: NluHints | None = None,
              confidence: float = 1.0, keypad: bool = False, no_input: bool = False,
              context: Mapping[str, Any] | None = None) -> Turn:
    """Handle an opt-out, a request for a person, for a repeat or for help; else answer.

    Without an NLU the interruption is found by keywords. With one (``hints.intent``), its intent counts too,
    except on free-text questions (place, text), where anything may be an answer ("medicine for my mother")
    and only an explicit phrase ("别再打了") interrupts. ``no_input`` (nothing heard on a phone line) counts as a
    failed try and reprompts, whatever ``text`` is.
    """
    if no_input:
        return Turn(engine.no_input(q, state, context))
    kind = _interruption(q, state, text, hints, keypad)
    if kind == "opt_out":
        return Turn(engine.abandon(q, state, "opt_out", context), kind)
    if kind is not None and state.current is not None and state.pending_confirmation is None:
        question = q.question(state.current)
        if question.type == "choice" and isinstance(
                interpret(question, text, state.language, hints, keypad=keypad), Accepted):
            kind = None  # "找网格员" may be an option of the question itself
    if kind is None:
        return Turn(engine.answer(q, state, text, hints=hints, confidence=confidence,
                                  keypad=keypad, context=context))
    again = engine.repeat(q, state)
    if kind == "ask_human":
        again.state.asked_human = True
        return Turn(Step(again.state, None, [phrase("handoff", state.language), *again.say], again.finished),
                    kind)
    if kind == "help" and state.current is not None and state.pending_confirmation is None:
        question = q.question(state.current)
        say = [phrase("help_questionnaire", state.language), messages.reprompt_text(question, state.language)]
        return Turn(Step(again.state, None, say, again.finished), kind)
    return Turn(again, kind)
