"""The outbox loop, written once for every channel: claim due rows, send them paced, record what happened.

::

    outbox = Outbox(store, "telegram", send, pacer=pacer, keys=lambda row: ((Limit(1, 1.0), f"chat:{row.target}"),))
    await outbox.drain()          # send what is due now (and what falls due meanwhile); an ``OutboxReport``
    await outbox.run(stop)        # or keep sending until ``stop`` is set; ``wake()`` after queueing something

``send(row)`` sends one claimed row (``gridreach.views.OutboundView``) and returns the vendor's message id (or
None); it raises the channel errors of ``gridreach.errors``, which decide the row's fate:

* ``RateLimited`` — the row's pacing keys are held for ``retry_after`` seconds, and the row and the rest of its
  target's claimed rows are queued again for then (so they keep their order);
* ``ChannelUnavailable`` — queued again after ``backoff`` seconds, multiplied by ``backoff_factor`` after each
  further failure; after ``attempts`` failures (None: never) the row is failed;
* ``RecipientGone``, ``Refused`` and any other ``GridReachError`` — failed at once (sending again would fail again).

Rows of one target (a chat, a group, a user) go out one after the other in the order they were queued, even across
claims (one task per target, chained); targets are served side by side. Before a row is sent, ``check(row)`` may
name a reason not to send it (the row is failed with it); after a row is failed, ``on_failed(row, reason)`` runs
(an audit entry, say). Both are blocking and run in a worker thread, as every store call here: nothing blocks the
event loop. Message texts are never logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from bots.pacing import Limit, Pacer
from gridreach.errors import ChannelUnavailable, GridReachError, RateLimited, RecipientGone
from gridreach.store import Store
from gridreach.views import OutboundView

__all__ = ["Outbox", "OutboxReport"]

log = logging.getLogger(__name__)

Keys = tuple[tuple[Limit, str], ...]


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class OutboxReport:
    """What a drain did: rows sent, rows queued again, and ``"<target>: <why>"`` for each failed row."""

    sent: int = 0
    retried: int = 0
    failed: list[str] = field(default_factory=list)

    def since(self, earlier: OutboxReport) -> OutboxReport:
        return OutboxReport(self.sent - earlier.sent, self.retried - earlier.retried,
                            self.failed[len(earlier.failed):])

    def copy(self) -> OutboxReport:
        return OutboxReport(self.sent, self.retried, list(self.failed))


class Outbox:
    """Sends one channel's queued rows (``Store.enqueue_outbound``) through ``send``."""

    def __init__(
        self,
        store: Store,
        channel: str,
        send: Callable[[OutboundView], Awaitable[str | None]],
        *,
        pacer: Pacer | None = None,
        keys: Callable[[OutboundView], Keys] | None = None,
        check: Callable[[OutboundView], str | None] | None = None,
        on_failed: Callable[[OutboundView, str], None] | None = None,
        backoff: float = 30.0,
        backoff_factor: float = 2.0,
        attempts: int | None = None,
        batch: int = 50,
        lease: timedelta = timedelta(minutes=10),
    ) -> None:
        self.store, self.channel, self._send = store, channel, send
        self.pacer = pacer or Pacer()
        self._keys = keys or (lambda row: ())
        self._check, self._on_failed = check, on_failed
        self.backoff, self.backoff_factor, self.attempts = backoff, backoff_factor, attempts
        self.batch, self.lease = batch, lease
        self.totals = OutboxReport()  # since this outbox was made
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._tails: dict[str, asyncio.Task[None]] = {}  # per target: the task sending its latest batch
        self._failures: dict[int, int] = {}  # row id -> ChannelUnavailable failures in a row
        self._kick = asyncio.Event()

    # ---- driving it ------------------------------------------------------------------------------------------
    def wake(self) -> None:
        """Something was queued: look at the outbox now."""
        self._kick.set()

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        """Send until ``stop`` is set (rows already being sent are finished)."""
        while not stop.is_set():
            if not await self._claim():
                self._kick.clear()
                stopper = asyncio.ensure_future(stop.wait())
                kicker = asyncio.ensure_future(self._kick.wait())
                await asyncio.wait({stopper, kicker}, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
                stopper.cancel()
                kicker.cancel()
        await self._settle()

    async def drain(self, rounds: int = 1000) -> OutboxReport:
        """Send everything that is due now, and what falls due while doing so; what this drain did."""
        before = self.totals.copy()
        for _ in range(rounds):
            claimed = await self._claim()
            if self._inflight:
                await self._settle()
            elif not claimed:
                break
        return self.totals.since(before)

    async def drain_until_idle(self, timeout: float = 300.0) -> OutboxReport:
        """Drain until nothing is pending any more (waiting for retries to fall due), or ``timeout`` seconds."""
        before = self.totals.copy()
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            await self.drain()
            pending = await asyncio.to_thread(self.store.list_outbound, self.channel, "pending")
            if not pending or loop.time() >= end:
                return self.totals.since(before)
            due = min(row.not_before for row in pending) - _now()
            await asyncio.sleep(min(max(due.total_seconds(), 0.02), max(end - loop.time(), 0.0)))

    async def _settle(self) -> None:
        while self._inflight:
            await asyncio.gather(*set(self._inflight.values()), return_exceptions=True)

    # ---- claiming ----------------------------------------------------------------------------------------------
    async def _claim(self) -> int:
        claimed = await asyncio.to_thread(self.store.claim_outbound, self.channel, self.batch, self.lease)
        rows = [r for r in claimed if r.id not in self._inflight]
        by_target: dict[str, list[OutboundView]] = {}
        for row in rows:
            by_target.setdefault(row.target, []).append(row)
        for target, target_rows in by_target.items():  # targets side by side, each one's rows in the order queued
            task = asyncio.ensure_future(self._send_in_order(target_rows, self._tails.get(target)))
            self._tails[target] = task
            for row in target_rows:
                self._inflight[row.id] = task
            task.add_done_callback(self._forget(target, [r.id for r in target_rows]))
        return len(rows)

    def _forget(self, target: str, row_ids: list[int]) -> Callable[[asyncio.Task[None]], None]:
        def forget(task: asyncio.Task[None]) -> None:
            for row_id in row_ids:
                self._inflight.pop(row_id, None)
            if self._tails.get(target) is task:
                del self._tails[target]

        return forget

    async def _send_in_order(self, rows: list[OutboundView], before: asyncio.Task[None] | None) -> None:
        if before is not None:  # the same target's earlier batch goes first
            await asyncio.wait({before})
        for index, row in enumerate(rows):
            try:
                limited = await self._deliver(row)
            except Exception as exc:  # one row's failure must not hold back the target's next ones
                log.error("%s outbox %s: sending failed: %s", self.channel, row.id, type(exc).__name__)
                continue
            if limited is not None:  # the rest waits too, so that it keeps its order
                for later in rows[index + 1:]:
                    await self._retry(later, str(limited), limited.retry_after)
                return

    # ---- one row ----------------------------------------------------------------------------------------------
    async def _deliver(self, row: OutboundView) -> RateLimited | None:
        """Send one row and record the outcome; the ``RateLimited`` that stopped it, if one did."""
        if self._check is not None:
            why = await asyncio.to_thread(self._check, row)
            if why is not None:
                await self._fail(row, why)
                return None
        keys = self._keys(row)
        await self.pacer.acquire(*keys)
        try:
            external_id = await self._send(row)
        except RateLimited as exc:
            for _, key in keys:
                self.pacer.hold(exc.retry_after, key)
            await self._retry(row, str(exc), exc.retry_after)
            return exc
        except ChannelUnavailable as exc:
            await self._unavailable(row, exc)
        except RecipientGone as exc:
            await self._fail(row, f"recipient gone: {exc}")
        except GridReachError as exc:  # Refused, and whatever else was refused or failed on purpose
            await self._fail(row, str(exc))
        else:
            self._failures.pop(row.id, None)
            await asyncio.to_thread(self.store.mark_outbound_sent, row.id, external_id)
            self.totals.sent += 1
        return None

    async def _unavailable(self, row: OutboundView, exc: ChannelUnavailable) -> None:
        failures = self._failures[row.id] = self._failures.get(row.id, 0) + 1
        if self.attempts is not None and failures >= self.attempts:
            self._failures.pop(row.id, None)
            await self._fail(row, f"unavailable after {failures} attempts: {exc}")
            return
        await self._retry(row, f"unavailable: {exc}", self.backoff * self.backoff_factor ** (failures - 1))

    async def _retry(self, row: OutboundView, why: str, after: float) -> None:
        await asyncio.to_thread(self.store.mark_outbound_retry, row.id, why, _now() + timedelta(seconds=after))
        self.totals.retried += 1

    async def _fail(self, row: OutboundView, why: str) -> None:
        log.warning("%s outbox %s (%s) to %s not sent: %s", self.channel, row.id, row.kind, row.target, why[:200])
        await asyncio.to_thread(self.store.mark_outbound_failed, row.id, why)
        if self._on_failed is not None:
            await asyncio.to_thread(self._on_failed, row, why)
        self.totals.failed.append(f"{row.target}: {why}")
