"""One bot, assembled: the API client, the paced sender and its outbox loop, the core, and (in polling mode) the
poller. ``start()`` connects (getMe), starts the loops and, in webhook mode with a ``webhook_url``, registers the
webhook with its secret token; ``stop()`` ends them. Used by the Rasa channel and by the app's embedded runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from bots.pacing import Pacer
from bots.telegram.api import TelegramApi
from bots.telegram.bot import TelegramBot
from bots.telegram.config import TelegramSettings
from bots.telegram.poller import TelegramPoller
from bots.telegram.sender import Sender
from campaigns.questionnaire import Questionnaire
from gridreach.dialogue import Dialogue
from gridreach.store import Store

__all__ = ["TelegramRuntime"]


class TelegramRuntime:
    def __init__(self, settings: TelegramSettings, store: Store, dialogue: Dialogue,
                 pacer: Pacer | None = None,
                 questionnaires: Callable[[], Mapping[str, Questionnaire]] | None = None) -> None:
        self.settings, self.store = settings, store
        self.api = TelegramApi(settings)
        self.sender = Sender(store, self.api, settings, pacer)
        self.bot = TelegramBot(store, dialogue, self.sender, settings, questionnaires)
        self.poller = TelegramPoller(self.bot, self.api, settings.poll_timeout, settings.retry_backoff)
        self._stop = asyncio.Event()
        self._sending: asyncio.Task[None] | None = None
        self._polling: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.api.start()
        self._stop.clear()
        self._sending = asyncio.ensure_future(self.sender.run(self._stop))
        if self.settings.mode == "polling":
            self._polling = asyncio.ensure_future(self.poller.run(self._stop))
        elif self.settings.webhook_url:
            await self.api.set_webhook(self.settings.webhook_url, self.settings.webhook_secret)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop polling at once (unacknowledged updates come again), let messages being sent finish."""
        self._stop.set()
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
        if self._sending is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._sending), timeout=grace)
            self._sending.cancel()
        self._polling = self._sending = None
        await self.api.close()
