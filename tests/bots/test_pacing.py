"""bots.pacing: sliding windows overall and per key, holds after a 429, on simulated time."""

from __future__ import annotations

import asyncio

import pytest

from bots.pacing import Limit, Pacer


class SimClock:
    """Simulated time: sleeping advances it; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def max_in_window(times: list[float], seconds: float) -> int:
    """The largest number of events inside any half-open window [t, t + seconds)."""
    return max(sum(1 for u in times if t <= u < t + seconds) for t in times)


async def test_overall_limit_is_a_sliding_window() -> None:
    clock = SimClock()
    pacer = Pacer(overall=Limit(3, 1.0), clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(10):
        await pacer.acquire()
        times.append(clock.now)
    assert max_in_window(times, 1.0) == 3
    assert times[:3] == [1000.0] * 3  # a burst up to the limit goes at once
    assert times[3] == pytest.approx(1001.0)


async def test_per_key_windows_are_separate_and_share_the_overall_one() -> None:
    clock = SimClock()
    pacer = Pacer(overall=Limit(30, 1.0), clock=clock, sleep=clock.sleep)
    per_chat = Limit(1, 1.0)
    sent: dict[str, list[float]] = {"a": [], "b": []}

    async def send(chat: str) -> None:
        await pacer.acquire((per_chat, chat))
        sent[chat].append(clock.now)

    await asyncio.gather(*(send(c) for c in "abababab"))
    assert len(sent["a"]) == len(sent["b"]) == 4
    for times in sent.values():
        assert max_in_window(times, 1.0) == 1
    assert sent["a"][0] == sent["b"][0]  # two chats do not wait for each other


async def test_several_windows_on_one_event() -> None:
    clock = SimClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    group_chat, group_minute = Limit(1, 1.0), Limit(20, 60.0)
    times = []
    for _ in range(25):
        await pacer.acquire((group_chat, "chat:-1"), (group_minute, "group:-1"))
        times.append(clock.now)
    assert max_in_window(times, 1.0) == 1
    assert max_in_window(times, 60.0) == 20
    assert times[20] - times[0] == pytest.approx(60.0)


async def test_hold_delays_one_key_or_all() -> None:
    clock = SimClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.hold(5.0, "chat:1")
    assert pacer.delay((Limit(10, 1.0), "chat:1")) == pytest.approx(5.0)
    assert pacer.delay((Limit(10, 1.0), "chat:2")) == 0.0
    await pacer.acquire((Limit(10, 1.0), "chat:1"))
    assert clock.now == pytest.approx(1005.0)
    pacer.hold(2.0)
    assert pacer.delay((Limit(10, 1.0), "chat:2")) == pytest.approx(2.0)


async def test_idle_windows_are_forgotten() -> None:
    clock = SimClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep, max_keys=10)
    for n in range(50):
        await pacer.acquire((Limit(1, 1.0), f"chat:{n}"))
        clock.now += 2.0
    assert len(pacer._events) <= 11


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="count"):
        Limit(0, 1.0)
    with pytest.raises(ValueError, match="seconds"):
        Limit(1, 0)
