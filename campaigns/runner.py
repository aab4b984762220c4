"""One turn of a questionnaire run: interruptions first, then the engine.

Every channel reaches it through the Rasa form's validator (``dialogs.actions.questionnaire``), which passes the
NLU's parse as ``hints`` (intent, its confidence, entities) and, from the message metadata, what a phone line adds
(``keypad``, the recogniser's ``asr_confidence``, ``no_input``): the voice caller does not call it, it sends that
metadata with each turn. The answer corpus report (``gridreach_app.answer_report``, hints from the trained NLU) and
the conversation tests (``campaigns.conversation_tests``) call it directly.

An interruption that cannot be undone by the resident's next message (opting out, being put through to a person)
needs evidence: an explicit phrase (``campaigns.interrupts``, as SMS STOP keywords work) acts at once; the
classifier's guess alone is asked back first ("您是说以后不要再联系您了吗？").
While a question is open, a reply that answers it is an answer, whatever the classifier guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaigns import engine, messages, qtypes
from campaigns._confirm import read_confirmation
from campaigns._yesno import read_yes_no
from campaigns.answers import Accepted, NluHints, interpret
from campaigns.engine import RunState, Step
from campaigns.interrupts import INTERRUPTS, detect_interrupt
from campaigns.phrases import phrase
from campaigns.questionnaire import Questionnaire
from campaigns.reading import fold

__all__ = ["CONSEQUENTIAL", "Turn", "take_turn"]

#: Interruptions that need evidence: an explicit phrase, or the classifier's guess confirmed by the resident.
CONSEQUENTIAL = ("opt_out", "ask_human")
_KEYPAD_CONFIRM = {"1": "yes", "2": "no"}
#: A classifier's opt-out this sure is asked back even when the reply could be an answer (a free text, or more
#: than a word or two: "I don't want these messages" to "do you have a cough?").
_FREE_TEXT_GUESS = 0.95


@dataclass(frozen=True)
class Turn:
    """The step taken, and the interruption that caused it (None for an answer).

    ``interrupt`` is one of ``INTERRUPTS``, or ``confirm_opt_out`` / ``confirm_ask_human`` when the classifier's
    guess was asked back.
    """

    step: Step
    interrupt: str | None = None


def _answers(q: Questionnaire, state: RunState, text: str, hints: NluHints | None, keypad: bool,
             context: Mapping[str, Any] | None = None) -> bool:
    """True when ``text`` is a valid answer to the open question (or a yes/no to an open confirmation)."""
    if state.current is None:
        return False
    if state.pending_confirmation is not None:
        return (keypad and text.strip().rstrip("#") in _KEYPAD_CONFIRM) or read_yes_no(text, confirming=True).usable
    question = q.question(state.current)
    today = engine.today(context)  # "지난 일요일" reads against the run's day, as the answer itself will be
    return isinstance(interpret(question, text, state.language, hints, today, keypad=keypad), Accepted)


def _interruption(q: Questionnaire, state: RunState, text: str, hints: NluHints | None,
                  keypad: bool, context: Mapping[str, Any] | None = None) -> tuple[str | None, bool]:
    """The interruption asked for, and whether it was asked for explicitly (a phrase, a key)."""
    if keypad:
        key = text.strip().rstrip("#")
        if key == "*":
            return "repeat", True
        if key == "0" and not _answers(q, state, key, None, True):
            return "ask_human", True  # "0" for a person, as phone menus have it (unless 0 answers this question)
        return None, False
    keyword = detect_interrupt(text, state.language)
    if keyword is not None:
        return keyword, True
    if hints is None or hints.intent not in INTERRUPTS:
        return None, False
    free_text = (state.current is not None and state.pending_confirmation is None
                 and qtypes.require(q.question(state.current).type).free_text)
    if free_text:  # "medicine for my mother" is an answer; only a confident opt-out guess is asked back
        sure = hints.intent == "opt_out" and hints.confidence >= _FREE_TEXT_GUESS
        return (hints.intent, False) if sure else (None, False)
    sure_guess = hints.intent == "opt_out" and hints.confidence >= _FREE_TEXT_GUESS
    if _answers(q, state, text, hints, keypad, context) and not (sure_guess and not _short(text)):
        return None, False  # "一千二": an answer, whatever the classifier guessed
    return hints.intent, False


def _short(text: str) -> bool:
    """A reply short enough to be only an answer ("没有", "一千二", "no"), not "I don't want these messages"."""
    norm = fold(text)
    return len(re.findall(r"[a-z']+", norm)) <= 1 and len(re.findall(r"[\u4e00-\u9fff가-힣]", norm)) <= 8


def _act(q: Questionnaire, state: RunState, kind: str, text: str, hints: NluHints | None, keypad: bool,
         context: Mapping[str, Any] | None, *, confirmed: bool = False) -> Turn:
    if kind == "opt_out":
        return Turn(engine.abandon(q, state, "opt_out", context), kind)
    if not confirmed and state.current is not None and state.pending_confirmation is None:
        question = q.question(state.current)
        if qtypes.require(question.type).answers_before_interrupts and isinstance(
                interpret(question, text, state.language, hints, keypad=keypad), Accepted):
            return Turn(engine.answer(q, state, text, hints=hints, keypad=keypad, context=context))
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


def _settle(q: Questionnaire, state: RunState, text: str, hints: NluHints | None, confidence: float,
            keypad: bool, context: Mapping[str, Any] | None) -> Turn:
    """The reply to "do you mean you want no more contact?" (or "…a person?")."""
    pending = state.pending_interrupt or ""
    st = state.copy()
    st.pending_interrupt = None
    verdict = read_confirmation(text, keypad=keypad)
    if verdict == "yes":
        return _act(q, st, pending, text, hints, keypad, context, confirmed=True)
    if verdict == "no":
        again = engine.repeat(q, st)
        return Turn(Step(again.state, None, [phrase("not_opted_out", st.language), *again.say], again.finished))
    return take_turn(q, st, text, hints=hints, confidence=confidence, keypad=keypad, context=context)


def take_turn(q: Questionnaire, state: RunState, text: str, *, hints: NluHints | None = None,
              confidence: float = 1.0, keypad: bool = False, no_input: bool = False,
              context: Mapping[str, Any] | None = None) -> Turn:
    """Handle an opt-out, a request for a person, for a repeat or for help; else answer.

    An explicit phrase ("别再打了", keypad 0 for a person) acts at once. The classifier's guess of an opt-out or
    a person is asked back first, and is ignored when the reply answers the open question; on free-text
    questions (place, text) anything may be an answer ("medicine for my mother"), so only a phrase interrupts.
    ``no_input`` (nothing heard on a phone line) counts as a failed try and reprompts, whatever ``text`` is.
    """
    if no_input:  # silence to "do you mean…?" is no consent: the question goes on
        st = state.copy()
        st.pending_interrupt = None
        return Turn(engine.no_input(q, st, context))
    if state.pending_interrupt is not None:
        explicit, _ = _interruption(q, state, text, None, keypad, context)
        if explicit in CONSEQUENTIAL:
            st = state.copy()
            st.pending_interrupt = None
            return _act(q, st, explicit, text, hints, keypad, context)
        return _settle(q, state, text, hints, confidence, keypad, context)
    kind, explicit_ = _interruption(q, state, text, hints, keypad, context)
    if kind in CONSEQUENTIAL and not explicit_:
        st = state.copy()
        st.pending_interrupt = kind
        return Turn(Step(st, None, [phrase(f"confirm_{kind}", st.language)], False), f"confirm_{kind}")
    if kind is None:
        return Turn(engine.answer(q, state, text, hints=hints, confidence=confidence,
                                  keypad=keypad, context=context))
    return _act(q, state, kind, text, hints, keypad, context)
