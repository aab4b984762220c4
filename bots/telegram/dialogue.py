"""What the connector needs of the dialogue core (injected; ``gridreach_app`` or the Rasa channel provides it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["DialoguePort", "ReplyLike"]


class ReplyLike(Protocol):
    """One message from the assistant: text, buttons, and a custom payload (``expect``, ``handoff``)."""

    @property
    def text(self) -> str | None: ...

    @property
    def buttons(self) -> tuple[dict[str, Any], ...]: ...

    @property
    def custom(self) -> dict[str, Any]: ...


class DialoguePort(Protocol):
    """``handle(sender_id, text, channel, metadata) -> replies``; a sender is always one person."""

    async def handle(
        self, sender_id: str, text: str, channel: str, metadata: dict[str, Any] | None = None
    ) -> Sequence[ReplyLike]: ...
