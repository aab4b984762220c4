"""The Telegram group bot: a Rasa channel (``bots.telegram.TelegramInput`` in ``credentials.yml``), its
channel-neutral core, a paced sender with a restart-safe outbox, and polling and webhook modes.

Modules: ``config`` (settings), ``api`` (the only one importing python-telegram-bot), ``updates`` (reading an
Update), ``bot`` (the core), ``workers`` (grid workers' commands), ``broadcast`` (queueing notices and screenings),
``sender`` (pacing, outbox, failures), ``poller``, ``runtime`` (assembly), ``channel`` (Rasa and the webhook).
Rasa and python-telegram-bot are imported only when the names that need them are asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "TelegramInput",
    "TelegramOutput",
    "TelegramRuntime",
    "TelegramSettings",
    "enqueue_notice",
    "enqueue_screening",
    "webhook_blueprint",
]

_WHERE = {
    "TelegramInput": "channel", "TelegramOutput": "channel", "webhook_blueprint": "channel",
    "TelegramRuntime": "runtime", "TelegramSettings": "config", "enqueue_notice": "broadcast",
    "enqueue_screening": "broadcast",
}


def __getattr__(name: str) -> Any:
    """The names above, imported when first asked for: importing ``bots.telegram.config`` (or ``.connector``)
    imports neither Rasa nor python-telegram-bot."""
    if name in _WHERE:
        return getattr(importlib.import_module(f"bots.telegram.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'bots.telegram' has no attribute {name!r}")
