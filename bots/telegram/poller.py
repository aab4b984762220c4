"""Polling mode: long-poll ``getUpdates`` and hand each update to the core.

An update's offset is acknowledged (by the next ``getUpdates``) only after the update was handled: a crash
re-delivers it and the core's claim answers it once. An update whose handling keeps failing is retried
``max_failures`` times and then skipped (logged), so one poisoned update cannot stop the bot. An update whose
claim another handler holds (a process killed mid-update: until its lease expires) is waited for, not counted
as a failure. A retried update does each of its side effects once (``bots.telegram.journal``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bots.telegram.api import TelegramApi
from bots.telegram.bot import TelegramBot
from bots.telegram.updates import MalformedUpdate, UpdateBusy
from gridreach.errors import ChannelError

__all__ = ["TelegramPoller"]

log = logging.getLogger(__name__)


class TelegramPoller:
    def __init__(self, bot: TelegramBot, api: TelegramApi, timeout: int = 30, backoff: float = 1.0,
                 max_failures: int = 5) -> None:
        self.bot, self.api, self.timeout, self.backoff, self.max_failures = bot, api, timeout, backoff, max_failures
        self.offset: int | None = None
        self._failures: dict[int, int] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set. Deletes any webhook first (Telegram refuses getUpdates while one is set)."""
        await self.api.delete_webhook()
        while not stop.is_set():
            if not await self.poll_once():
                await _wait(stop, self.backoff)

    async def poll_once(self, timeout: int | None = None) -> bool:
        """One getUpdates round; False when Telegram could not be reached or an update failed (back off)."""
        try:
            updates = await self.api.get_updates(self.offset, self.timeout if timeout is None else timeout)
        except ChannelError as exc:
            log.warning("telegram: getUpdates failed: %s", exc)
            return False
        for update in updates:
            update_id = int(update.get("update_id", 0))
            try:
                await self.bot.handle_update(update)
            except MalformedUpdate as exc:
                log.warning("telegram: update %s skipped: %s", update_id, exc)
            except UpdateBusy:
                log.info("telegram: update %s is held by another handler; waiting for its lease", update_id)
                return False
            except Exception as exc:
                failures = self._failures[update_id] = self._failures.get(update_id, 0) + 1
                if failures < self.max_failures:
                    log.warning("telegram: update %s failed (%s), will retry", update_id, type(exc).__name__)
                    return False
                log.error("telegram: update %s skipped after %d failures (%s)", update_id, failures,
                          type(exc).__name__)
            self._failures.pop(update_id, None)
            self.offset = update_id + 1
        return True


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
