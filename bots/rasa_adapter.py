"""The one adapter from Rasa's ``on_new_message`` (what ``rasa run`` gives an ``InputChannel``) to the dialogue port.

Both chat channels loaded by ``rasa run`` (``bots.telegram.TelegramInput``, ``bots.wechat.WeChatInput``) build their
dialogue with ``rasa_dialogue``: Rasa's handler behind ``RasaDialogue``, wrapped in ``gridreach.dialogue.OnceOnly``
exactly as ``gridreach serve`` wraps its embedded or remote dialogue, so a redelivered message is answered once
the same way under either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from gridreach.dialogue import Dialogue, OnceOnly, Reply
from gridreach.store import Store

__all__ = ["OnNewMessage", "RasaDialogue", "rasa_dialogue"]

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class RasaDialogue:
    """``gridreach.dialogue.Dialogue`` over Rasa's ``on_new_message``: the replies are collected, not sent."""

    def __init__(self, on_new_message: OnNewMessage) -> None:
        self.on_new_message = on_new_message

    async def handle(self, sender_id: str, text: str, channel: str,
                     metadata: dict[str, Any] | None = None) -> list[Reply]:
        collector = CollectingOutputChannel()
        meta = {"channel": channel, **(metadata or {})}
        await self.on_new_message(UserMessage(text, collector, sender_id, input_channel=channel, metadata=meta))
        return [Reply.from_rasa(m) for m in collector.messages]


def rasa_dialogue(on_new_message: OnNewMessage, store: Store) -> Dialogue:
    """The dialogue of a channel under ``rasa run``: Rasa's handler, each delivery answered once."""
    return OnceOnly(RasaDialogue(on_new_message), store)
