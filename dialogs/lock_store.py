"""A Redis lock store that several Rasa servers can share safely.

Rasa 3.6's ``RedisLockStore`` reads a conversation's ticket lock, changes it and writes it back with no guard: two
servers taking a message of the same conversation at the same moment can both read the same lock, both issue the
same ticket (or lose one) and both handle their message at once, so one answer overwrites the other in the tracker
(RasaHQ/rasa#9213; Rasa's own fix, ``ConcurrentRedisLockStore``, was reverted from Rasa Open Source). This subclass
keeps Rasa's ticket scheme and storage format and makes each read-modify-write of a lock atomic with Redis's own
lock (``SET NX PX`` with a token, as redis-py's ``Redis.lock`` does it), so servers queue their messages one by one.

Use it in ``endpoints.yml``::

    lock_store:
      type: dialogs.lock_store.AtomicRedisLockStore
      url: 127.0.0.1
      port: 6379
      db: 1
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

__all__ = ["AtomicRedisLockStore"]

#: Seconds a server may hold a conversation's mutex (a read and a write to Redis) before it is freed for others.
MUTEX_TIMEOUT = 10.0


class AtomicRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose ticket changes are atomic across processes (see the module docstring)."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # loaded by module path from endpoints.yml
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    @contextmanager
    def _mutex(self, conversation_id: str) -> Iterator[None]:
        mutex = self.red.lock(f"{self.key_prefix}{conversation_id}:mutex", timeout=MUTEX_TIMEOUT,
                              blocking_timeout=MUTEX_TIMEOUT)
        if not mutex.acquire():
            raise LockError(f"could not take the ticket mutex of a conversation within {MUTEX_TIMEOUT:.0f} s")
        try:
            yield
        finally:
            with contextlib.suppress(redis.exceptions.LockError):  # expired meanwhile: another may hold it now
                mutex.release()

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            LockStore.finish_serving(self, conversation_id, ticket_number)
            if not self.is_someone_waiting(conversation_id):
                self.delete_lock(conversation_id)
