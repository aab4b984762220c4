"""Answering within WeChat's 5 seconds, once per message, however many times WeChat retries it.

``TurnKeeper.answer(key, work)`` runs ``work`` once per key (in this process) and waits up to the deadline:

* the result arrives in time → it is the passive reply (of this request, or of a retry waiting for it);
* it does not → the request answers empty ("success"); when the result arrives and no request is waiting for it,
  ``late(key, result)`` delivers it another way (customer-service messages);
* a retry of a key still running waits for the same result; a retry after delivery gets an empty answer.

Exactly one of {a passive reply, ``late``} delivers each result. Finished keys are forgotten after ``keep`` seconds
(the store's message claim keeps later redeliveries from being answered twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["TurnKeeper"]

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class _Turn(Generic[T]):
    task: asyncio.Task[T]
    waiters: int = 0
    delivered: bool = False
    late_tasks: set[asyncio.Task[None]] = field(default_factory=set)


class TurnKeeper(Generic[T]):
    def __init__(self, deadline: float, late: Callable[[str, T], Awaitable[None]], keep: float = 120.0) -> None:
        self.deadline = deadline
        self._late = late
        self._keep = keep
        self._turns: dict[str, _Turn[T]] = {}

    async def answer(self, key: str, work: Callable[[], Awaitable[T]]) -> T | None:
        """The result of ``work`` if it is ready within the deadline and not delivered yet, else None."""
        turn = self._turns.get(key)
        if turn is None:
            turn = self._start(key, work)
        elif turn.delivered:
            return None
        turn.waiters += 1
        try:
            await asyncio.wait({turn.task}, timeout=self.deadline)
        except asyncio.CancelledError:  # the request went away (WeChat gave up on it)
            turn.waiters -= 1
            if turn.task.done() and turn.waiters == 0 and _succeeded(turn.task):
                self._deliver_late(key, turn, turn.task.result())
            raise
        turn.waiters -= 1
        if not turn.task.done() or turn.task.cancelled():
            return None
        error = turn.task.exception()
        if error is not None:
            raise error
        if turn.delivered:
            return None
        turn.delivered = True
        return turn.task.result()

    def _start(self, key: str, work: Callable[[], Awaitable[T]]) -> _Turn[T]:
        async def run() -> T:
            try:
                result = await work()
            except BaseException:
                self._turns.pop(key, None)  # a failed turn may be handled again when redelivered
                raise
            if turn.waiters == 0:
                self._deliver_late(key, turn, result)
            asyncio.get_running_loop().call_later(self._keep, self._forget, key, turn)
            return result

        turn: _Turn[T] = _Turn(asyncio.ensure_future(run()))
        turn.task.add_done_callback(_log_failure)
        self._turns[key] = turn
        return turn

    def _deliver_late(self, key: str, turn: _Turn[T], result: T) -> None:
        if turn.delivered:
            return
        turn.delivered = True
        job = asyncio.ensure_future(self._late(key, result))
        turn.late_tasks.add(job)
        job.add_done_callback(turn.late_tasks.discard)
        job.add_done_callback(_log_failure)

    def _forget(self, key: str, turn: _Turn[T]) -> None:
        if self._turns.get(key) is turn:
            del self._turns[key]

    def running(self) -> int:
        """How many turns are still being worked on (for tests and shutdown)."""
        return sum(1 for t in self._turns.values() if not t.task.done())

    async def settle(self) -> None:
        """Wait for every running turn and late delivery (tests, shutdown)."""
        while True:
            pending: list[asyncio.Future[Any]] = [t.task for t in self._turns.values() if not t.task.done()]
            pending += [j for t in self._turns.values() for j in t.late_tasks]
            if not pending:
                return
            await asyncio.wait(pending)


def _succeeded(task: asyncio.Future[Any]) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("a WeChat turn failed: %s", type(task.exception()).__name__)
