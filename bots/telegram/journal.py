"""What handling one update has already done, so that a retried update does each side effect once.

An update whose handling fails is handled again (the webhook answers 500 and Telegram redelivers it; the poller
retries it). Its claim row (``gridreach.dialogue.claimed`` over ``Store.claim_message``) keeps a record of the steps already done
(``Store.record_message_step``): each message sent (``send:<n>``, the n-th send of the update, with its message
id), each callback answer and edit, the dialogue's replies, the notice or campaign created. A retry takes the
recorded result instead of doing the step again, so "worker linked" is sent once however often the update is
retried. A step is recorded right after it was done: a process killed between the two does that one step again.

The journal of the update being handled is found through a context variable (``once``), so the code that sends or
writes needs no extra parameter; outside an update (the CLI, the outbox) ``once`` just runs the step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from gridreach.store import Store

__all__ = ["UpdateJournal", "once", "step_name"]

T = TypeVar("T")
_CURRENT: ContextVar[UpdateJournal | None] = ContextVar("telegram_update_journal", default=None)


class UpdateJournal:
    """The steps of one claimed update (``channel``, ``key``) and their recorded results."""

    def __init__(self, store: Store, channel: str, key: str, done: dict[str, Any]) -> None:
        self.store, self.channel, self.key = store, channel, key
        self.done = done
        self._counts: dict[str, int] = {}

    @classmethod
    async def load(cls, store: Store, channel: str, key: str) -> UpdateJournal:
        return cls(store, channel, key, await asyncio.to_thread(store.message_progress, channel, key))

    def next_step(self, kind: str) -> str:
        """``kind:<n>``: the n-th step of this kind in this handling (the same n on a retry of the same path)."""
        n = self._counts.get(kind, 0)
        self._counts[kind] = n + 1
        return f"{kind}:{n}"

    async def once(self, step: str, action: Callable[[], Awaitable[T]],
                   encode: Callable[[T], Any] = lambda value: value,
                   decode: Callable[[Any], T] = lambda value: value) -> T:
        if step in self.done:
            return decode(self.done[step])
        result = await action()
        stored = encode(result)
        await asyncio.shield(asyncio.to_thread(self.store.record_message_step, self.channel, self.key, step, stored))
        self.done[step] = stored
        return result

    def activate(self) -> Any:
        """Make this the current update's journal (``once`` finds it); returns the token for ``deactivate``."""
        return _CURRENT.set(self)

    @staticmethod
    def deactivate(token: Any) -> None:
        _CURRENT.reset(token)


def step_name(kind: str) -> str | None:
    """The next ``kind:<n>`` step of the current update, or None outside one."""
    journal = _CURRENT.get()
    return None if journal is None else journal.next_step(kind)


async def once(step: str | None, action: Callable[[], Awaitable[T]],
               encode: Callable[[T], Any] = lambda value: value,
               decode: Callable[[Any], T] = lambda value: value) -> T:
    """Do ``action`` once per update: a retry gets the recorded (``encode``d, then ``decode``d) result back.

    ``step`` None (or outside an update): just do it. Results must be JSON once encoded."""
    journal = _CURRENT.get()
    if journal is None or step is None:
        return await action()
    return await journal.once(step, action, encode, decode)
