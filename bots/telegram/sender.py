"""Everything the connector sends, paced to Telegram's limits, with each failure mode decided.

* Direct replies (``send_now``) go out at once through the pacer (1/s per chat, 20/min per group, 30/s overall).
* Broadcasts go through the outbox in the database (``Store.enqueue_outbound``, deduplicated by key) and the
  ``run`` loop: restart-safe, nothing sent twice.

Outcomes: a 429 waits ``retry_after`` (the pacer holds that chat) and sends again; a 403 means the person blocked the
bot (recorded as opt-out for Telegram) or the bot left the group (the group is deactivated): that chat gets nothing
more; a migrated group follows its new id; 5xx and network failures retry with doubling backoff up to
``send_attempts``, then the message is marked failed and logged (never its text); any other refusal fails at once.

Inside the handling of an update each ``send_now`` is done once (``bots.telegram.journal``): a retried update gets
the recorded message id back instead of sending again. The database is called off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from bots.pacing import Limit, Pacer
from bots.telegram.api import TelegramApi
from bots.telegram.config import TelegramSettings
from bots.telegram.errors import ChannelUnavailable, ChatMoved, RateLimited, RecipientGone, RequestRefused
from bots.telegram.journal import once, step_name
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
        self.lease, self.batch = lease, batch
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._tails: dict[str, asyncio.Task[None]] = {}  # per chat: the task sending its latest batch
        self._failures: dict[int, int] = {}
        self._kick = asyncio.Event()

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
            except RequestRefused as exc:  # sending it again would be refused again
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
        self._kick.set()

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        """Send the outbox until ``stop`` is set (messages already being sent are finished)."""
        while not stop.is_set():
            if not await self._claim():
                self._kick.clear()
                stopper = asyncio.ensure_future(stop.wait())
                kicker = asyncio.ensure_future(self._kick.wait())
                await asyncio.wait({stopper, kicker}, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
                stopper.cancel()
                kicker.cancel()
        if self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    async def drain(self, rounds: int = 1000) -> None:
        """Send everything that is due now, and what becomes due while doing so (tests, the CLI)."""
        for _ in range(rounds):
            claimed = await self._claim()
            if self._inflight:
                await asyncio.gather(*self._inflight.values(), return_exceptions=True)
            elif not claimed:
                return

    async def _claim(self) -> int:
        claimed = await asyncio.to_thread(self.store.claim_outbound, CHANNEL, self.batch, self.lease)
        rows = [r for r in claimed if r.id not in self._inflight]
        by_chat: dict[str, list[OutboundView]] = {}
        for row in rows:
            by_chat.setdefault(row.target, []).append(row)
        for target, chat_rows in by_chat.items():  # chats in parallel, each chat's messages in the order queued
            task = asyncio.ensure_future(self._deliver_in_order(chat_rows, self._tails.get(target)))
            self._tails[target] = task
            for row in chat_rows:
                self._inflight[row.id] = task
            task.add_done_callback(self._done(target, [r.id for r in chat_rows]))
        return len(rows)

    async def _deliver_in_order(self, rows: list[OutboundView], before: asyncio.Task[None] | None) -> None:
        if before is not None:  # the same chat's earlier batch goes first
            await asyncio.wait({before})
        for row in rows:
            try:
                await self._deliver(row)
            except Exception as exc:  # one row's failure must not hold back the chat's next ones
                log.error("telegram outbox %s: sending failed: %s", row.id, type(exc).__name__)

    def _done(self, target: str, row_ids: list[int]) -> Callable[[asyncio.Task[None]], None]:
        def forget(task: asyncio.Task[None]) -> None:
            for row_id in row_ids:
                self._inflight.pop(row_id, None)
            if self._tails.get(target) is task:
                del self._tails[target]

        return forget

    def _skip(self, row: OutboundView, chat_id: int) -> str | None:
        """Why the row is not sent any more (blocking: called in a worker thread)."""
        if chat_id < 0:
            group = self.store.get_group(CHANNEL, row.target)
            if group is not None and not group.active:
                return "group is no longer active"
        else:
            resident = self.store.resident_by_identity(CHANNEL, row.target)
            if resident is not None and self.store.has_opted_out(resident.id, CHANNEL):
                return "resident opted out of telegram"
        return None

    async def _deliver(self, row: OutboundView) -> None:
        try:
            chat_id = int(row.target)
            text, markup = str(row.payload["text"]), row.payload.get("markup")
        except (KeyError, TypeError, ValueError):
            await asyncio.to_thread(self.store.mark_outbound_failed, row.id, "unreadable outbox row")
            return
        skip = await asyncio.to_thread(self._skip, row, chat_id)
        if skip is not None:
            await asyncio.to_thread(self.store.mark_outbound_failed, row.id, skip)
            return
        for _ in range(3):  # a group may move once; then the message goes to the new id
            await self.pacer.acquire(*self._keys(chat_id))
            try:
                message_id = await self.api.send_message(chat_id, text, markup)
            except ChatMoved as exc:
                chat_id = await self._moved(chat_id, exc)
                continue
            except RateLimited as exc:
                self.pacer.hold(exc.retry_after, f"chat:{chat_id}")
                await asyncio.to_thread(self.store.mark_outbound_retry, row.id, "rate limited (429)",
                                        _now() + timedelta(seconds=exc.retry_after))
            except RecipientGone:
                await self.recipient_gone(chat_id)
                await asyncio.to_thread(self.store.mark_outbound_failed, row.id, "recipient gone (403)")
            except ChannelUnavailable as exc:
                await asyncio.to_thread(self._unavailable, row, exc)
            except RequestRefused as exc:
                log.warning("telegram outbox %s (%s) refused: %s", row.id, row.kind, str(exc)[:200])
                await asyncio.to_thread(self.store.mark_outbound_failed, row.id, f"refused: {exc}")
            else:
                self._spaced(chat_id)
                self._failures.pop(row.id, None)
                await asyncio.to_thread(self.store.mark_outbound_sent, row.id, str(message_id))
            return
        await asyncio.to_thread(self.store.mark_outbound_failed, row.id, "the chat kept moving")

    def _unavailable(self, row: OutboundView, exc: ChannelUnavailable) -> None:
        failures = self._failures[row.id] = self._failures.get(row.id, 0) + 1
        if failures >= self.settings.send_attempts:
            self._failures.pop(row.id, None)
            log.warning("telegram outbox %s (%s) failed after %d attempts: %s", row.id, row.kind, failures,
                        str(exc)[:200])
            self.store.mark_outbound_failed(row.id, f"unavailable after {failures} attempts: {exc}")
            return
        backoff = self.settings.retry_backoff * 2 ** (failures - 1)
        self.store.mark_outbound_retry(row.id, f"unavailable: {exc}", _now() + timedelta(seconds=backoff))
