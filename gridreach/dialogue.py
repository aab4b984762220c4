"""The dialogue port every channel talks to: ``handle(sender_id, text, channel, metadata) -> replies``.

Chat connectors (``bots``) and the voice caller (``voice_caller``) receive a ``Dialogue`` by injection; the app
(``gridreach_app.dialogue``) provides the implementations: a Rasa agent in-process, or Rasa's REST channel. A sender
is always a person, never a group chat; under ``rasa run`` the channels make one from Rasa's ``on_new_message``
(``bots.rasa_adapter``). ``OnceOnly`` wraps any of them so a redelivered message is answered once: it is the one
dedupe layer of every delivery, and ``claimed`` (the claim it takes, by channel + message id) is the one used by a
connector that dedupes more than a dialogue turn (a Telegram update, a WeChat binding). ``typed`` is what a
connector hands the dialogue of a text a person typed: a typed ``/intent{...}`` stays text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from gridreach.errors import GridReachError
from gridreach.store import Store
from gridreach.store.outreach import CLAIM_LEASE, ClaimState

__all__ = ["Dialogue", "DialogueError", "OnceOnly", "Reply", "claimed", "typed"]

_INTENT_PREFIX = "/"  # Rasa's RegexMessageHandler reads a (stripped) text starting with it as an intent
_NEUTRAL = "\u200b"  # a zero-width space: not whitespace to ``str.strip``, so the text is no longer a trigger


def typed(text: str) -> str:
    """A text a person typed, made safe for the dialogue: one that Rasa would read as an intent with entities
    (``/start_questionnaire{...}``, after leading spaces) gets a zero-width space in front and stays text. Our own
    triggers (``campaigns.triggers.start_message``, menu and button payloads) are passed as they are."""
    return _NEUTRAL + text if text.strip().startswith(_INTENT_PREFIX) else text


@asynccontextmanager
async def claimed(store: Store, channel: str, message_id: str,
                  lease: timedelta = CLAIM_LEASE) -> AsyncIterator[ClaimState]:
    """Claim one delivery (``Store.claim_inbound``) for the ``with`` body: ``"claimed"`` (handle it), ``"done"``
    (handled before: ignore it) or ``"busy"`` (another holder under a live lease). A claimed delivery is finished
    when the body returns and released when it raises, so the redelivery is handled; the store is called off the
    event loop (it serves webhooks), and a claim whose process died (kill -9) expires after ``lease``."""
    state = await asyncio.to_thread(store.claim_inbound, channel, message_id, lease)
    if state != "claimed":
        yield state
        return
    try:
        yield state
    except BaseException:
        await asyncio.shield(asyncio.to_thread(store.release_message, channel, message_id))
        raise
    await asyncio.to_thread(store.finish_message, channel, message_id)


class DialogueError(GridReachError):
    """The dialogue core could not be reached or answered badly."""


@dataclass(frozen=True)
class Reply:
    """One message from the assistant: text, optional buttons, optional channel-specific payload."""

    text: str | None = None
    buttons: tuple[dict[str, Any], ...] = ()
    custom: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_rasa(cls, raw: dict[str, Any]) -> Reply:
        return cls(
            text=raw.get("text"),
            buttons=tuple(raw.get("buttons") or ()),
            custom=dict(raw.get("custom") or raw.get("json_message") or {}),
        )


class Dialogue(Protocol):
    """Anything that takes a person's message and returns the assistant's replies."""

    async def handle(
        self, sender_id: str, text: str, channel: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]: ...


class OnceOnly:
    """A dialogue that hands each delivered message to the core once.

    Channels redeliver (WeChat retries a callback three times with the same MsgId; webhooks are retried after a
    timeout). A message whose ``metadata["message_id"]`` was already claimed on that channel is answered with no
    replies instead of being taken as the answer to the next question. When handling fails the claim is
    released, so the channel's redelivery is handled; the claim of a process killed mid-turn expires after
    ``lease``, and a redelivery after that is handled (one sooner is answered with nothing).
    """

    def __init__(self, inner: Dialogue, store: Store, lease: timedelta = timedelta(minutes=2)) -> None:
        self.inner = inner
        self.store = store
        self.lease = lease

    async def handle(
        self, sender_id: str, text: str, channel: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]:
        message_id = (metadata or {}).get("message_id")
        if message_id is None:
            return await self.inner.handle(sender_id, text, channel, metadata)
        async with claimed(self.store, channel, str(message_id), self.lease) as state:
            if state != "claimed":
                return []
            return await self.inner.handle(sender_id, text, channel, metadata)
