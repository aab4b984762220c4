"""The pure questionnaire engine: state in, (state, what to say) out. No I/O.

Storing answers and sending or speaking ``Step.say`` are the caller's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from campaigns import messages, qtypes
from campaigns.answers import Accepted, NluHints, interpret
from campaigns.phrases import phrase
from campaigns.qtypes.confirm import read_verdict
from campaigns.questionnaire import CONTEXT_NAMES, Question, Questionnaire

__all__ = ["AnswerRecord", "RunState", "Step", "abandon", "answer", "assess", "repeat", "start", "today"]

STATUSES = ("in_progress", "complete", "partial", "abandoned")


@dataclass
class RunState:
    """Everything about one resident's run of one questionnaire; JSON-serialisable."""

    questionnaire_id: str
    version: int
    language: str
    answers: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    tries: dict[str, int] = field(default_factory=dict)
    current: str | None = None
    skipped: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    pending_confirmation: dict[str, Any] | None = None
    status: str = "in_progress"
    risk: str | None = None
    derived: dict[str, Any] = field(default_factory=dict)
    end_reason: str | None = None
    asked_human: bool = False
    content_hash: str = ""
    #: An interruption only the classifier heard ("opt_out", "ask_human"): asked back before it is acted on.
    pending_interrupt: str | None = None

    @property
    def opted_out(self) -> bool:
        """True when the resident asked not to be contacted."""
        return self.end_reason == "opt_out"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe copy."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunState:
        """Rebuild from ``to_dict()`` output (unknown keys are ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        state = cls(**known)
        if state.status not in STATUSES:
            raise ValueError(f"unknown run status {state.status!r}")
        return state

    def copy(self) -> RunState:
        """A deep copy (the engine never changes the state it is given)."""
        return RunState.from_dict(self.to_dict())


@dataclass(frozen=True)
class AnswerRecord:
    """An answer just stored: one row per answer, raw input beside the value."""

    key: str
    value: Any
    raw: str
    confidence: float


@dataclass(frozen=True)
class Step:
    """The engine's output for one turn."""

    state: RunState
    accepted: AnswerRecord | None
    say: list[str]
    finished: bool
    risk: str | None = None


def today(context: Mapping[str, Any] | None) -> date:
    """The run's day: ``context["today"]`` (a date or ISO text) when given, else the clock's."""
    value = (context or {}).get("today")
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if isinstance(value, str) else date.today()


def assess(q: Questionnaire, answers: Mapping[str, Any],
           context: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    """Derived values and the risk level for a set of answers."""
    env: dict[str, Any] = {key: None for key in q.keys}
    env.update(answers)
    env.update({name: (context or {}).get(name) for name in CONTEXT_NAMES})
    derived: dict[str, Any] = {}
    for name, expr in q.derived:
        derived[name] = env[name] = expr.evaluate(env)
    for rule in q.risk:
        if rule.when.truth(env):
            return derived, rule.level
    return derived, q.default_risk


def start(q: Questionnaire, language: str, context: Mapping[str, Any] | None = None) -> Step:
    """Begin a run; an unsupported language falls back to zh (or the first listed)."""
    if language not in q.languages:
        language = "zh" if "zh" in q.languages else q.languages[0]
    state = RunState(q.id, q.version, language, content_hash=q.content_hash)
    say = [q.intro[language]] if q.intro else []
    notice = (context or {}).get("notice")
    if isinstance(notice, str) and notice.strip():
        say.append(notice.strip())
    return _advance(q, state, 0, context, say, None)


def _advance(q: Questionnaire, st: RunState, index: int, context: Mapping[str, Any] | None,
             say: list[str], record: AnswerRecord | None) -> Step:
    env = {**{k: None for k in q.keys}, **st.answers}
    env.update({name: (context or {}).get(name) for name in CONTEXT_NAMES})
    for question in q.questions[index:]:
        if question.when is not None and not question.when.truth(env):
            st.skipped.append(question.key)
            continue
        st.current = question.key
        return Step(st, record, [*say, question.prompt[st.language]], False)
    st.current = None
    st.derived, st.risk = assess(q, st.answers, context)
    missing = [k for k in st.unanswered if q.question(k).required]
    st.status = "partial" if missing else "complete"
    return Step(st, record, [*say, q.closing[st.risk][st.language]], True, st.risk)


def _position(q: Questionnaire, key: str) -> int:
    return q.keys.index(key)


def _commit(q: Questionnaire, st: RunState, question: Question, value: Any, raw: str,
            confidence: float, context: Mapping[str, Any] | None) -> Step:
    st.answers[question.key] = value
    st.raw[question.key] = raw
    st.pending_confirmation = None
    record = AnswerRecord(question.key, value, raw, confidence)
    return _advance(q, st, _position(q, question.key) + 1, context, [], record)


def _failed(q: Questionnaire, st: RunState, question: Question, say: str,
            context: Mapping[str, Any] | None, keep_pending: bool = False) -> Step:
    st.tries[question.key] = st.tries.get(question.key, 0) + 1
    if st.tries[question.key] < question.max_tries:
        if not keep_pending:
            st.pending_confirmation = None
        return Step(st, None, [say], False)
    st.pending_confirmation = None
    st.unanswered.append(question.key)
    return _advance(q, st, _position(q, question.key) + 1, context,
                    [messages.skip_text(st.language)], None)


def answer(q: Questionnaire, state: RunState, text: str, *, hints: NluHints | None = None,
           confidence: float = 1.0, keypad: bool = False,
           context: Mapping[str, Any] | None = None) -> Step:
    """Take the resident's reply to the current question (or to a confirmation)."""
    st = state.copy()
    if st.status != "in_progress" or st.current is None:
        return Step(st, None, [], True, st.risk)
    question = q.question(st.current)
    if st.pending_confirmation is not None:
        return _confirm(q, st, question, text, hints, confidence, keypad, context)
    result = interpret(question, text, st.language, hints, today(context), keypad=keypad)
    if not isinstance(result, Accepted):
        return _failed(q, st, question, messages.reason_text(question, result.reason, st.language),
                       context)
    sure = min(confidence, result.confidence)
    if sure < question.confirm_below:
        st.pending_confirmation = {"value": result.value, "raw": result.raw, "confidence": sure}
        return Step(st, None, [messages.confirm_text(question, result.value, st.language)], False)
    return _commit(q, st, question, result.value, result.raw, sure, context)


def _confirm(q: Questionnaire, st: RunState, question: Question, text: str,
             hints: NluHints | None, confidence: float, keypad: bool,
             context: Mapping[str, Any] | None) -> Step:
    pending = st.pending_confirmation or {}
    verdict = read_verdict(text, keypad=keypad)
    if verdict == "yes":
        return _commit(q, st, question, pending["value"], pending["raw"], 1.0, context)
    if not qtypes.require(question.type).yes_no_words and not keypad:
        fresh = interpret(question, text, st.language, hints, today(context))
        if isinstance(fresh, Accepted) and fresh.value != pending["value"]:
            st.pending_confirmation = None  # "不是，三十八度": a new answer replaces it
            return answer(q, st, text, hints=hints, confidence=confidence, context=context)
    if verdict == "no":
        return _failed(q, st, question, messages.reprompt_text(question, st.language), context)
    again = messages.confirm_text(question, pending["value"], st.language)
    return _failed(q, st, question, again, context, keep_pending=True)


def no_input(q: Questionnaire, state: RunState, context: Mapping[str, Any] | None = None) -> Step:
    """Nothing was heard (a silent phone line): a failed try that reprompts; after ``max_tries`` the question
    is left unanswered and the run goes on."""
    st = state.copy()
    if st.status != "in_progress" or st.current is None:
        return Step(st, None, [], True, st.risk)
    question = q.question(st.current)
    if st.pending_confirmation is not None:
        again = messages.confirm_text(question, st.pending_confirmation["value"], st.language)
        return _failed(q, st, question, again, context, keep_pending=True)
    return _failed(q, st, question, messages.reprompt_text(question, st.language), context)


def repeat(q: Questionnaire, state: RunState) -> Step:
    """Say the current question (or pending confirmation) again; costs no try."""
    st = state.copy()
    if st.status != "in_progress" or st.current is None:
        return Step(st, None, [], True, st.risk)
    question = q.question(st.current)
    if st.pending_interrupt is not None:  # "do you mean you want no more contact?", asked again
        return Step(st, None, [phrase(f"confirm_{st.pending_interrupt}", st.language)], False)
    if st.pending_confirmation is not None:
        value = st.pending_confirmation["value"]
        return Step(st, None, [messages.confirm_text(question, value, st.language)], False)
    return Step(st, None, [question.prompt[st.language]], False)


def abandon(q: Questionnaire, state: RunState, reason: str,
            context: Mapping[str, Any] | None = None) -> Step:
    """End the run early (opt_out, hangup, timeout...); answers so far are kept.

    No risk level is given: one computed from part of the answers (often "low") would mislead.
    """
    st = state.copy()
    st.status, st.end_reason = "abandoned", reason
    st.current, st.pending_confirmation, st.risk = None, None, None
    st.derived = assess(q, st.answers, context)[0]
    say = [messages.goodbye_text(st.language)] if reason == "opt_out" else []
    return Step(st, None, say, True, None)
