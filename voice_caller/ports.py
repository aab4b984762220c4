"""What a call session is given and what it gives back: small protocols, so that ``voice_caller`` needs neither
the Rasa core (``gridreach_app``) nor a particular recogniser or synthesiser to be tested. The dialogue is the one
port of every channel, ``gridreach.dialogue.Dialogue``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from campaigns.expect import Expect
from gridreach.dialogue import Reply
from gridreach.views import ResidentView

__all__ = [
    "CallContext",
    "CallResult",
    "HeardLike",
    "ListenerFactory",
    "ListenerLike",
    "SpeakerLike",
    "Telephony",
    "split_replies",
]


class HeardLike(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def confidence(self) -> float: ...


class ListenerLike(Protocol):
    @property
    def speaking(self) -> bool: ...

    def feed(self, ulaw8k: bytes) -> HeardLike | None: ...

    def finish(self) -> HeardLike: ...


ListenerFactory = Callable[[Expect], ListenerLike]
"""Builds the listener of one question from its ``Expect`` (blocking: called in an executor)."""


class SpeakerLike(Protocol):
    def cached(self, text: str, language: str) -> bytes | None: ...

    def say(self, text: str, language: str, *, keep: bool = True) -> Awaitable[bytes]: ...


class Telephony(Protocol):
    async def transfer(self, call_sid: str, phone: str) -> None: ...

    async def hangup(self, call_sid: str) -> None: ...


@dataclass(frozen=True)
class CallContext:
    """Who is called, for which questionnaire, on which Twilio call and stream."""

    attempt_id: int
    resident: ResidentView
    questionnaire_id: str
    campaign_id: int | None
    call_sid: str
    stream_sid: str


@dataclass
class CallResult:
    """How the call went (no answers in here: they are in the database)."""

    result: str = "dropped"  # completed | abandoned | partial | transferred | gone | dropped
    submission_id: int | None = None
    turns: int = 0
    barge_ins: int = 0
    live_syntheses: int = 0  # texts not found in the prompt cache, synthesised during the call
    details: dict[str, Any] = field(default_factory=dict)


def split_replies(
    replies: list[Reply],
) -> tuple[list[str], Expect | None, Mapping[str, Any] | None, list[Reply]]:
    """Texts to say up to the first hand-over (or all), the last ``Expect``, the hand-over, what follows it."""
    texts: list[str] = []
    expect: Expect | None = None
    for i, reply in enumerate(replies):
        custom = reply.custom or {}
        if isinstance(custom.get("handoff"), Mapping):
            return texts, None, custom["handoff"], replies[i + 1 :]
        if isinstance(custom.get("expect"), Mapping):
            expect = Expect.from_payload(custom["expect"]) or expect
        elif reply.text:
            texts.append(reply.text)
    return texts, expect, None, []
