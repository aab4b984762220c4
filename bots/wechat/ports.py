"""What the Official Account needs besides the dialogue port (``gridreach.dialogue.Dialogue``)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["CustomerService"]


class CustomerService(Protocol):
    """Sends one customer-service text to a user (``OfficialAccountAPI``); raises ``gridreach.errors.ChannelError``."""

    async def send_text(self, openid: str, text: str) -> None: ...
