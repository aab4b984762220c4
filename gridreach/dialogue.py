"""The dialogue port every channel talks to: ``handle(sender_id, text, channel, metadata) -> replies``.

Chat connectors (``bots``) and the voice caller (``voice_caller``) receive a ``Dialogue`` by injection; the app
(``gridreach_app.dialogue``) provides the implementations: a Rasa agent in-process, or Rasa's REST channel. A sender
is always a person, never a group chat. ``OnceOnly`` wraps any of them so a redelivered message is answered once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    released, so the channel's redelivery is handled; a process killed mid-turn loses that one turn, and the
    questionnaire asks its current question again on the resident's next message.
    """

    def __init__(self, inner: Dialogue, store: Store) -> None:
        self.inner = inner
        self.store = store

    async def handle(
        self, sender_id: str, text: str, channel: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]:
        message_id = (metadata or {}).get("message_id")
        if message_id is None:
            return await self.inner.handle(sender_id, text, channel, metadata)
        if not self.store.claim_message(channel, str(message_id)):
            return []
        try:
            return await self.inner.handle(sender_id, text, channel, metadata)
        except BaseException:
            self.store.release_message(channel, str(message_id))  # let the redelivery be handled
            raise
