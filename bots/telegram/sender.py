"""Everything the connector sends, paced to Telegram's limits, with each failure mode decided.

* Direct replies (``send_now``) go out at once through the pacer (1/s per chat, 20/min per group, 30/s overall).
* Broadcasts go through the outbox in the database (``Store.enqueue_outbound``, deduplicated by key) and the
  shared outbox loop (``bots.outbox.Outbox``: ``run``, ``drain``): restart-safe, nothing sent twice, each chat's
  messages in the order queued.

Outcomes: a 429 waits ``retry_after`` (the pacer holds that chat; in the outbox the chat's later messages wait
too) and sends again; a 403 means the person blocked the
bot (recorded as opt-out for Telegram) or the bot left the group (the group is deactivated): that chat gets nothing
more; a migrated group follows its new id; 5xx and network failures retry with doubling backoff up to
``send_attempts``, then the message is marked failed and logged (never its text); any other refusal fails at once.

Inside the handling of an update each ``send_now`` is done once (``bots.telegram.journal``): a retried update gets
the recorded message id back instead of sending again. The database is called off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from bots.outbox import Outbox, OutboxReport
from bots.pacing import Limit, Pacer
from bots.telegram.api import TelegramApi
from bots.telegram.config import TelegramSettings
from bots.telegram.journal import once, step_name
from gridreach.errors import ChannelUnavailable, ChatMoved, RateLimited, RecipientGone, Refused
from gridreach.store import Store
from gridreach.views import OutboundView

__all__ = ["CHANNEL", "Sender"]

CHANNEL = "telegram"
log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Sender:
    """Paced sending for one bot: direct replies and the outbox loop."""

    def __init__(self, store: Store, api: TelegramApi, settings: TelegramSettings, pacer: Pacer | None = None,
                 lease: timedelta = timedelta(minutes=10), batch: int = 50) -> None:
        self.store, self.api, self.settings = store, api, settings
        self.pacer = pacer or Pacer(overall=settings.overall)
        self.outbox = Outbox(store, CHANNEL, self._send_row, pacer=self.pacer, keys=self._row_keys, check=self._skip,
                             backoff=settings.retry_backoff, attempts=settings.send_attempts, batch=batch, lease=lease)

    # ---- pacing keys -------------------------------------------------------------------------------------
    def _keys(self, chat_id: int) -> tuple[tuple[Limit, str], ...]:
        keys: tuple[tuple[Limit, str], ...] = ((self.settings.per_chat, f"chat:{chat_id}"),)
        if chat_id < 0:  # groups and supergroups have negative ids
            keys += ((self.settings.per_group, f"group:{chat_id}"),)
        return keys

    def _spaced(self, chat_id: int) -> None:
        """After a message to a chat with a one-message window (Telegram's 1/s per chat), the next one waits a full
        window from now. The pacer counts a message when it starts out, Telegram when it arrives: at exactly the
        limit, a little jitter puts two arrivals inside one second, and the 429's retry_after costs a second more."""
        if self.settings.per_chat.count == 1:
            self.pacer.hold(self.settings.per_chat.seconds, f"chat:{chat_id}")

    # ---- direct replies ----------------------------------------------------------------------------------
    async def send_now(self, chat_id: int, text: str, markup: dict[str, Any] | None = None,
                       dedupe_key: str | None = None, defer: bool = True) -> int | None:
        """Send one message now (paced); its id, or None when it was not sent now.

        A 429 waits and sends again. When Telegram is unavailable the message goes to the outbox (with
        ``dedupe_key``) so that it is sent later, not lost (unless ``defer`` is False: then it is dropped and
        logged); when the chat is gone it is dropped (and recorded); a refused one is dropped and logged.
        Within an update, done once whatever is retried.
        """
        return await once(step_name("send"), lambda: self._send_now(chat_id, text, markup, dedupe_key, defer))

    async def _send_now(self, chat_id: int, text: str, markup: dict[str, Any] | None, dedupe_key: str | None,
                        defer: bool) -> int | None:
        for _ in range(10):
            await self.pacer.acquire(*self._keys(chat_id))
            try:
                message_id = await self.api.send_message(chat_id, text, markup)
                self._spaced(chat_id)
                return message_id
            except RateLimited as exc:
                self.pacer.hold(exc.retry_after, f"chat:{chat_id}")
            except ChatMoved as exc:
                chat_id = await self._moved(chat_id, exc)
            except RecipientGone:
                await self.recipient_gone(chat_id)
                return None
            except ChannelUnavailable as exc:
                await self._undelivered(chat_id, text, markup, dedupe_key, str(exc), defer)
                return None
            except Refused as exc:  # sending it again would be refused again
                log.warning("telegram: a reply to chat %s was refused: %s", chat_id, str(exc)[:200])
                return None
        await self._undelivered(chat_id, text, markup, dedupe_key, "rate limited again and again", defer)
        return None

    async def _undelivered(self, chat_id: int, text: str, markup: dict[str, Any] | None, dedupe_key: str | None,
                     error: str, defer: bool) -> None:
        if not defer:
            log.warning("telegram: a reply to chat %s was not delivered (%s)", chat_id, error[:120])
            return
        key = dedupe_key or f"reply:{chat_id}:{_now().timestamp()}"
        log.warning("telegram: reply to chat %s deferred to the outbox (%s)", chat_id, error[:120])
        await asyncio.to_thread(self.store.enqueue_outbound, CHANNEL, str(chat_id), {"text": text, "markup": markup},
                                key, kind="reply", not_before=_now() + timedelta(seconds=self.settings.retry_backoff))
        self.wake()

    async def _moved(self, chat_id: int, exc: ChatMoved) -> int:
        new_id = int(exc.new_chat_id)
        await asyncio.to_thread(self.store.migrate_group, CHANNEL, str(chat_id), str(new_id))
        return new_id

    async def recipient_gone(self, chat_id: int) -> None:
        """The chat refuses the bot (403): a group is deactivated, a resident's private chat is an opt-out."""
        if chat_id < 0:
            await asyncio.to_thread(self.store.deactivate_group, CHANNEL, str(chat_id),
                                    "the bot was removed from the group")
            return
        resident = await asyncio.to_thread(self.store.resident_by_identity, CHANNEL, str(chat_id))
        if resident is not None:
            await asyncio.to_thread(self.store.record_opt_out, resident.id, CHANNEL, "blocked the bot")

    # ---- the outbox ----------------------------------------------------------------------------------------
    def wake(self) -> None:
        """Something was queued: look at the outbox now."""
        self.outbox.wake()

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        """Send the outbox until ``stop`` is set (messages already being sent are finished)."""
        await self.outbox.run(stop, idle)

    async def drain_until_idle(self, timeout: float = 300.0) -> OutboxReport:
        """Drain, wait for what a 429 put back, drain again, until nothing is pending or ``timeout`` passed."""
        return await self.outbox.drain_until_idle(timeout)

    async def drain(self, rounds: int = 1000) -> OutboxReport:
        """Send everything that is due now, and what becomes due while doing so (tests, the CLI)."""
        return await self.outbox.drain(rounds)

    def _row_keys(self, row: OutboundView) -> tuple[tuple[Limit, str], ...]:
        try:
            return self._keys(int(row.target))
        except ValueError:
            return ((self.settings.per_chat, f"chat:{row.target}"),)

    def _skip(self, row: OutboundView) -> str | None:
        """Why the row is not sent any more (blocking: called in a worker thread)."""
        try:
            chat_id = int(row.target)
            str(row.payload["text"])
        except (KeyError, TypeError, ValueError):
            return "unreadable outbox row"
        if chat_id < 0:
            group = self.store.get_group(CHANNEL, row.target)
            if group is not None and not group.active:
                return "group is no longer active"
        else:
            resident = self.store.resident_by_identity(CHANNEL, row.target)
            if resident is not None and self.store.has_opted_out(resident.id, CHANNEL):
                return "resident opted out of telegram"
        return None

    async def _send_row(self, row: OutboundView) -> str:
        """Send one outbox row (paced by the outbox); a group that moved is followed to its new id."""
        chat_id = int(row.target)
        text, markup = str(row.payload["text"]), row.payload.get("markup")
        for attempt in range(3):  # a group may move once; then the message goes to the new id
            if attempt:
                await self.pacer.acquire(*self._keys(chat_id))
            try:
                message_id = await self.api.send_message(chat_id, text, markup)
            except ChatMoved as exc:
                chat_id = await self._moved(chat_id, exc)
                continue
            except RecipientGone:
                await self.recipient_gone(chat_id)
                raise
            self._spaced(chat_id)
            return str(message_id)
        raise Refused(detail="the chat kept moving")
