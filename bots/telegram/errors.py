"""Errors of the Telegram connector, children of ``gridreach.errors.GridReachError``.

::

    GridReachError
    └── ChannelError                  a chat platform refused or failed a call
        ├── RateLimited(retry_after)  over the platform's rate limit: wait, then send again
        ├── RecipientGone             the person blocked the bot, or the bot left / was removed from the group
        ├── ChatMoved(new_chat_id)    the group became another chat (Telegram supergroup migration)
        ├── ChannelUnavailable        the platform is down or unreachable (5xx, timeout): retry with backoff
        └── RequestRefused            the platform refused the request itself (4xx): do not retry it

``bots.telegram.api`` translates python-telegram-bot's exceptions into these; nothing else sees them.
"""

from __future__ import annotations

from gridreach.errors import GridReachError

__all__ = ["ChannelError", "ChannelUnavailable", "ChatMoved", "RateLimited", "RecipientGone", "RequestRefused"]


class ChannelError(GridReachError):
    """A chat platform refused or failed a call."""


class RateLimited(ChannelError):
    """Over the platform's rate limit; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        self.retry_after = float(retry_after)
        super().__init__(f"{message}: retry after {self.retry_after:g} s")


class RecipientGone(ChannelError):
    """The recipient cannot be reached any more (blocked the bot, bot removed from the group)."""


class ChatMoved(ChannelError):
    """The chat moved to ``new_chat_id`` (a Telegram group upgraded to a supergroup)."""

    def __init__(self, new_chat_id: int | str) -> None:
        self.new_chat_id = new_chat_id
        super().__init__(f"the chat moved to {new_chat_id}")


class ChannelUnavailable(ChannelError):
    """The platform is down or unreachable; the call may be retried later."""


class RequestRefused(ChannelError):
    """The platform refused the request itself; sending it again would fail again."""
