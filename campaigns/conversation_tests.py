"""Conversation tests as data (``questionnaires/tests/<id>.test.yml``), and a runner.

A conversation is replies in, expected stored answers / status / risk out. The same files
drive the pure engine (``EngineRespondent``) and, through another ``Respondent``, Rasa.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from campaigns import _yamlcheck as chk
from campaigns import engine
from campaigns.engine import RunState
from campaigns.loader import read_yaml
from campaigns.questionnaire import LANGUAGES, Questionnaire
from campaigns.runner import take_turn

__all__ = [
    "Conversation", "ConversationResult", "EngineRespondent", "Expectation", "Outcome", "Reply",
    "Respondent", "load_conversation_file", "load_conversation_tests", "run_conversation",
]

_STATUSES = ("complete", "partial", "abandoned")


@dataclass(frozen=True)
class Reply:
    """One thing the resident says, types or keys in."""

    text: str
    keypad: bool = False
    confidence: float = 1.0


@dataclass(frozen=True)
class Expectation:
    """What must be stored at the end; ``risk`` None means "not checked"."""

    status: str
    answers: dict[str, Any]
    risk: str | None = None
    opted_out: bool = False


@dataclass(frozen=True)
class Conversation:
    """One scripted conversation with one questionnaire."""

    questionnaire: str
    name: str
    language: str
    replies: tuple[Reply, ...]
    expect: Expectation
    context: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    line: int = 0

    @property
    def id(self) -> str:
        """"<questionnaire>: <name>", unique within the test files."""
        return f"{self.questionnaire}: {self.name}"


@dataclass(frozen=True)
class Outcome:
    """What the system under test stored."""

    status: str
    answers: dict[str, Any]
    risk: str | None
    opted_out: bool
    finished: bool


class Respondent(Protocol):
    """The system under test, seen from the resident's side."""

    def begin(self, q: Questionnaire, conv: Conversation) -> list[str]:
        """Start a fresh run; return what the system says first."""

    def reply(self, reply: Reply) -> list[str]:
        """Send one reply; return what the system says back."""

    def outcome(self) -> Outcome:
        """What has been stored so far."""


class EngineRespondent:
    """Drives the pure engine, with keyword interruptions (``campaigns.runner``)."""

    def __init__(self) -> None:
        self.q: Questionnaire | None = None
        self.state: RunState | None = None
        self.context: dict[str, Any] = {}

    def begin(self, q: Questionnaire, conv: Conversation) -> list[str]:
        """Start the engine in the conversation's language and context."""
        self.q, self.context = q, dict(conv.context)
        step = engine.start(q, conv.language, self.context)
        self.state = step.state
        return step.say

    def reply(self, reply: Reply) -> list[str]:
        """One turn through ``take_turn``."""
        assert self.q is not None and self.state is not None, "begin() first"
        turn = take_turn(self.q, self.state, reply.text, confidence=reply.confidence,
                         keypad=reply.keypad, context=self.context)
        self.state = turn.step.state
        return turn.step.say

    def outcome(self) -> Outcome:
        """The engine state as an Outcome."""
        assert self.state is not None, "begin() first"
        st = self.state
        return Outcome(st.status, dict(st.answers), st.risk, st.opted_out, st.status != "in_progress")


@dataclass
class ConversationResult:
    """The outcome, the transcript, and every mismatch with the expectation."""

    conversation: Conversation
    outcome: Outcome
    transcript: list[tuple[str, str]]
    failures: list[str]

    @property
    def ok(self) -> bool:
        """True when nothing differed."""
        return not self.failures

    def report(self) -> str:
        """A readable account for a failing test."""
        lines = [f"{self.conversation.path}:{self.conversation.line}: {self.conversation.id}"]
        lines += [f"  - {f}" for f in self.failures]
        lines += [f"    {who:>8}: {text}" for who, text in self.transcript]
        return "\n".join(lines)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), abs_tol=1e-9)
    return bool(a == b)


def run_conversation(q: Questionnaire, conv: Conversation,
                     respond: Respondent | None = None) -> ConversationResult:
    """Play ``conv`` against ``respond`` (the pure engine by default) and compare."""
    respond = respond or EngineRespondent()
    transcript = [("bot", s) for s in respond.begin(q, conv)]
    failures: list[str] = []
    for i, reply in enumerate(conv.replies):
        if respond.outcome().finished:
            failures.append(f"the run ended before reply {i + 1} ({reply.text!r}); "
                            f"{len(conv.replies) - i} replies unused")
            break
        transcript.append(("resident", reply.text))
        transcript += [("bot", s) for s in respond.reply(reply)]
    out, exp = respond.outcome(), conv.expect
    if out.status != exp.status:
        failures.append(f"status: expected {exp.status}, got {out.status}")
    if exp.risk is not None and out.risk != exp.risk:
        failures.append(f"risk: expected {exp.risk}, got {out.risk}")
    if out.opted_out != exp.opted_out:
        failures.append(f"opted_out: expected {exp.opted_out}, got {out.opted_out}")
    for key in sorted(set(exp.answers) | set(out.answers)):
        want, got = exp.answers.get(key, "<none>"), out.answers.get(key, "<none>")
        if not _same(want, got):
            failures.append(f"answer {key}: expected {want!r}, got {got!r}")
    return ConversationResult(conv, out, transcript, failures)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or value is None:
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def load_conversation_file(path: str | Path) -> list[Conversation]:
    """The conversations of one ``*.test.yml`` file, checked, with their lines."""
    path = str(path)
    c = chk.Checker(path)
    top = c.mapping(read_yaml(path, Path(path).read_text(encoding="utf-8")), 1, "a test file")
    c.known_keys(top, ("questionnaire", "conversations"), "a test file")
    qid = c.get(top, "questionnaire", str, required=True)
    seq = c.get(top, "conversations", CommentedSeq, required=True)
    result: list[Conversation] = []
    for i, item in enumerate(seq):
        node = c.mapping(item, chk.item_line(seq, i), f"conversation {i + 1}")
        c.known_keys(node, ("name", "language", "context", "replies", "expect"), "a conversation")
        name = c.get(node, "name", str, required=True)
        if name in [r.name for r in result]:
            c.fail(chk.value_line(node, "name"), f"duplicate conversation name '{name}'")
        language = c.get(node, "language", str, required=True)
        if language not in LANGUAGES:
            c.fail(chk.value_line(node, "language"), f"unknown language '{language}'")
        context = _plain(c.get(node, "context", CommentedMap, default={}))
        if "today" in context:
            context["today"] = date.fromisoformat(context["today"])
        replies = tuple(_reply(c, r, chk.value_line(node, "replies"))
                        for r in c.get(node, "replies", CommentedSeq, required=True))
        result.append(Conversation(qid, name, language, replies, _expect(c, node), context,
                                   path, chk.item_line(seq, i)))
    return result


def _reply(c: chk.Checker, item: Any, line: int) -> Reply:
    if isinstance(item, str):
        return Reply(item)
    node = c.mapping(item, line, "a reply (a string or {text, keypad, confidence})")
    c.known_keys(node, ("text", "keypad", "confidence"), "a reply")
    return Reply(str(c.get(node, "text", (str, int), required=True)),
                 c.get(node, "keypad", bool, default=False),
                 float(c.get(node, "confidence", (int, float), default=1.0)))


def _expect(c: chk.Checker, node: CommentedMap) -> Expectation:
    exp = c.get(node, "expect", CommentedMap, required=True)
    c.known_keys(exp, ("status", "risk", "answers", "opted_out"), "expect")
    status = c.get(exp, "status", str, required=True)
    if status not in _STATUSES:
        c.fail(chk.value_line(exp, "status"), f"status must be one of {', '.join(_STATUSES)}")
    return Expectation(status, _plain(c.get(exp, "answers", CommentedMap, required=True)),
                       c.get(exp, "risk", str, default=None),
                       c.get(exp, "opted_out", bool, default=False))


def load_conversation_tests(directory: str | Path) -> list[Conversation]:
    """Every conversation of every ``*.test.yml`` in ``directory``, in file order."""
    found: list[Conversation] = []
    for path in sorted(Path(directory).glob("*.test.yml")):
        found.extend(load_conversation_file(path))
    return found
