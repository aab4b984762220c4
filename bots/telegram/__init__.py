"""The Telegram group bot: a Rasa channel (``bots.telegram.TelegramInput`` in ``credentials.yml``), its
channel-neutral core, a paced sender with a restart-safe outbox, and polling and webhook modes.

Modules: ``config`` (settings), ``api`` (the only one importing python-telegram-bot), ``updates`` (reading an
Update), ``bot`` (the core), ``workers`` (grid workers' commands), ``broadcast`` (queueing notices and screenings),
``sender`` (pacing, outbox, failures), ``poller``, ``runtime`` (assembly), ``channel`` (Rasa and the webhook).
Rasa is imported only when the channel classes are asked for.
"""

from __future__ import annotations

from typing import Any

from bots.telegram.broadcast import enqueue_notice, enqueue_screening
from bots.telegram.config import TelegramSettings
from bots.telegram.runtime import TelegramRuntime

__all__ = [
    "TelegramInput",
    "TelegramOutput",
    "TelegramRuntime",
    "TelegramSettings",
    "enqueue_notice",
    "enqueue_screening",
    "webhook_blueprint",
]

_CHANNEL_NAMES = ("TelegramInput", "TelegramOutput", "webhook_blueprint")


def __getattr__(name: str) -> Any:
    if name in _CHANNEL_NAMES:
        from bots.telegram import channel

        return getattr(channel, name)
    raise AttributeError(f"module 'bots.telegram' has no attribute {name!r}")
