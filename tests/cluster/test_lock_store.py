"""dialogs.lock_store.AtomicRedisLockStore on the real Redis at 127.0.0.1:6379: tickets issued at the same moment
by several servers (here: several store instances, each with its own connection, in threads) are all different,
and each conversation is served one message at a time."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from dialogs.lock_store import AtomicRedisLockStore

REDIS = ("127.0.0.1", 6379, 3)


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"gridreachlock{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS[2])
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)
    client.close()


def _store(prefix: str) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(EndpointConfig(url=REDIS[0], port=REDIS[1], db=REDIS[2], key_prefix=prefix))


def test_tickets_issued_at_once_by_several_servers_are_all_different(prefix: str) -> None:
    stores = [_store(prefix) for _ in range(4)]
    barrier = threading.Barrier(16)
    tickets: list[int] = []
    guard = threading.Lock()

    def take(i: int) -> None:
        barrier.wait()
        ticket = stores[i % 4].issue_ticket("resident-1")
        with guard:
            tickets.append(ticket)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(tickets) == list(range(16))  # plain RedisLockStore hands out duplicates here (RasaHQ/rasa#9213)


def test_a_conversation_is_served_one_message_at_a_time(prefix: str) -> None:
    stores = [_store(prefix) for _ in range(2)]
    inside, most = 0, 0

    async def message(i: int) -> None:
        nonlocal inside, most
        async with stores[i % 2].lock("resident-2", wait_time_in_seconds=0.01):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.02)
            inside -= 1

    async def burst() -> None:
        await asyncio.gather(*(message(i) for i in range(8)))

    asyncio.run(burst())
    assert most == 1
    assert stores[0].get_lock("resident-2") is None  # the last one out removed the lock
