"""The dialogue port every channel talks to: ``handle(sender_id, text, channel, metadata) -> replies``.

Chat connectors (``bots``) and the voice caller (``voice_caller``) receive a ``Dialogue`` by injection; the app
(``gridreach_app.dialogue``) provides the implementations: a Rasa agent in-process, or Rasa's REST channel. A sender
is always a person, never a group chat. ``OnceOnly`` wraps any of them so a redelivered message is answered once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from gridreach.errors import GridReachError
from gridreach.store import Store

__all__ = ["Dialogue", "DialogueError", "OnceOnly", "Reply"]


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
        # the store is called off the event loop (it serves webhooks); a claim whose process died (kill -9)
        # expires after ``lease`` and the redelivery is handled; a finished one stays ignored
        if not await asyncio.to_thread(self.store.claim_message, channel, str(message_id), self.lease):
            return []
        try:
            replies = await self.inner.handle(sender_id, text, channel, metadata)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(self.store.release_message, channel, str(message_id)))
            raise
        await asyncio.to_thread(self.store.finish_message, channel, str(message_id))
        return replies
