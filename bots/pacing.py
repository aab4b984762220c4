"""A small async rate limiter: sliding windows of (count, seconds), overall and per key.

::

    pacer = Pacer(overall=Limit(30, 1.0))
    await pacer.acquire((Limit(1, 1.0), f"chat:{chat_id}"), (Limit(20, 60.0), f"group:{chat_id}"))
    pacer.hold(3.0, f"chat:{chat_id}")   # a 429 said "retry after 3": wait before the next send to that chat

``acquire`` returns once one more event fits every window named (and the overall one), and counts it in all of
them at once. The clock and the sleep are injectable, so tests run on simulated time.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["Limit", "Pacer"]

OVERALL = ""


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events in any ``seconds`` long window."""

    count: int
    seconds: float

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("Limit.count must be at least 1")
        if self.seconds <= 0:
            raise ValueError("Limit.seconds must be positive")


class Pacer:
    """Waits until an event fits every sliding window it belongs to."""

    def __init__(
        self,
        overall: Limit | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_keys: int = 100_000,
    ) -> None:
        self.overall = overall
        self._clock = clock
        self._sleep = sleep
        self._max_keys = max_keys
        self._events: dict[tuple[Limit, str], deque[float]] = {}
        self._holds: dict[str, float] = {}

    def hold(self, seconds: float, key: str | None = None) -> None:
        """Let nothing through for ``key`` (every key when None) during the next ``seconds``."""
        name = OVERALL if key is None else key
        until = self._clock() + max(0.0, seconds)
        self._holds[name] = max(self._holds.get(name, 0.0), until)

    def delay(self, *keys: tuple[Limit, str]) -> float:
        """How long until one more event fits (0.0: it fits now)."""
        now = self._clock()
        wait = 0.0
        for name in (OVERALL, *(key for _, key in keys)):
            wait = max(wait, self._holds.get(name, 0.0) - now)
        for window in self._windows(keys):
            limit, _ = window
            events = self._events.get(window)
            if events is None:
                continue
            while events and events[0] <= now - limit.seconds:
                events.popleft()
            if len(events) >= limit.count:
                wait = max(wait, events[-limit.count] + limit.seconds - now)
        return wait

    async def acquire(self, *keys: tuple[Limit, str]) -> None:
        """Wait until one more event fits the overall window and each ``(limit, key)`` window; count it."""
        while True:
            wait = self.delay(*keys)
            if wait <= 0:
                break
            await self._sleep(wait)
        now = self._clock()
        for window in self._windows(keys):
            self._events.setdefault(window, deque()).append(now)
        if len(self._events) > self._max_keys:
            self._forget_idle(now)

    def _windows(self, keys: tuple[tuple[Limit, str], ...]) -> list[tuple[Limit, str]]:
        windows = list(keys)
        if self.overall is not None:
            windows.append((self.overall, OVERALL))
        return windows

    def _forget_idle(self, now: float) -> None:
        """Drop windows with no event inside them any more (keeps memory bounded with many chats)."""
        for window in [w for w, ev in self._events.items() if not ev or ev[-1] <= now - w[0].seconds]:
            del self._events[window]
        for name in [n for n, until in self._holds.items() if until <= now]:
            del self._holds[name]
