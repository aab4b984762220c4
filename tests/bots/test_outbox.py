"""The shared outbox loop (``bots.outbox.Outbox``) on a real store: a 429's retry_after honoured (and the target's
later rows kept behind it), each target's rows in the order queued while targets go side by side, and every kind of
failure marked failed with its reason."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

from bots.outbox import Outbox
from bots.pacing import Limit, Pacer
from gridreach.errors import ChannelUnavailable, RateLimited, RecipientGone, Refused
from gridreach.views import OutboundView

CHANNEL = "test"


def queue(store: Any, target: str, n: int, prefix: str = "m") -> list[int]:
    ids = [store.enqueue_outbound(CHANNEL, target, {"text": f"{prefix}{i}"}, f"{target}:{prefix}{i}") for i in range(n)]
    assert all(i is not None for i in ids)
    return ids


def status(store: Any) -> dict[int, tuple[str, str | None]]:
    return {row.id: (row.status, row.error) for row in store.list_outbound(CHANNEL)}


def test_retry_after_is_honoured_and_the_targets_later_rows_wait_behind(store: Any) -> None:
    first, second = queue(store, "a", 2)
    (other,) = queue(store, "b", 1)
    sent: list[tuple[str, float]] = []
    limited = {first}

    async def send(row: OutboundView) -> str:
        if row.id in limited:
            limited.discard(row.id)
            raise RateLimited(0.4)
        sent.append((str(row.payload["text"]) + "@" + row.target, time.monotonic()))
        return f"x{row.id}"

    async def scenario() -> None:
        outbox = Outbox(store, CHANNEL, send, keys=lambda row: ((Limit(100, 1.0), f"chat:{row.target}"),))
        began = time.monotonic()
        report = await outbox.drain()
        assert report.sent == 1 and report.retried == 2 and report.failed == []
        assert [text for text, _ in sent] == ["m0@b"]  # a's rows both wait: m1 must not overtake m0
        rows = {row.id: row for row in store.list_outbound(CHANNEL)}
        assert rows[first].status == rows[second].status == "pending"
        assert rows[other].status == "sent" and rows[other].external_id == f"x{other}"
        wait = (rows[first].not_before - datetime.now(timezone.utc)).total_seconds()
        assert 0.1 < wait <= 0.4
        assert outbox.pacer.delay((Limit(100, 1.0), "chat:a")) > 0.1  # the chat itself is held too
        again = await outbox.drain_until_idle(timeout=10)
        assert again.sent == 2 and again.failed == []
        later = [(text, at) for text, at in sent if text.endswith("@a")]
        assert [text for text, _ in later] == ["m0@a", "m1@a"]
        assert later[0][1] - began >= 0.39  # not before retry_after had passed

    asyncio.run(scenario())
    assert {s for s, _ in status(store).values()} == {"sent"}


def test_each_targets_rows_go_in_order_and_targets_side_by_side(store: Any) -> None:
    targets = ["-1", "-2", "-3"]
    for target in targets:
        queue(store, target, 6)
    sent: dict[str, list[str]] = {t: [] for t in targets}
    active: set[str] = set()
    most = 0

    async def send(row: OutboundView) -> None:
        nonlocal most
        active.add(row.target)
        most = max(most, len(active))
        await asyncio.sleep(0.03 if int(str(row.payload["text"])[1:]) % 2 else 0.0)  # uneven: a race would show
        sent[row.target].append(str(row.payload["text"]))
        active.discard(row.target)

    async def scenario() -> None:
        outbox = Outbox(store, CHANNEL, send, batch=4)  # several claims, chained per target
        report = await outbox.drain()
        assert report.sent == 18

    asyncio.run(scenario())
    assert sent == {t: [f"m{i}" for i in range(6)] for t in targets}
    assert most >= 2  # targets were served side by side


def test_failures_are_marked_failed_with_their_reason(store: Any) -> None:
    refused, gone, down, skipped, fine = (queue(store, t, 1)[0] for t in ("r", "g", "d", "s", "f"))
    audited: list[tuple[int, str]] = []
    calls: list[str] = []

    async def send(row: OutboundView) -> str:
        calls.append(row.target)
        if row.target == "r":
            raise Refused(45015, "out of window")
        if row.target == "g":
            raise RecipientGone("blocked by the user")
        if row.target == "d":
            raise ChannelUnavailable("HTTP 502")
        return "ok"

    def check(row: OutboundView) -> str | None:
        return "opted out" if row.target == "s" else None

    async def scenario() -> None:
        outbox = Outbox(store, CHANNEL, send, check=check, on_failed=lambda row, why: audited.append((row.id, why)),
                        backoff=0.05, attempts=3, pacer=Pacer())
        report = await outbox.drain_until_idle(timeout=10)
        assert report.sent == 1 and report.retried == 2
        assert sorted(report.failed) == sorted([
            "r: refused (45015): out of window", "g: recipient gone: blocked by the user",
            "d: unavailable after 3 attempts: HTTP 502", "s: opted out"])

    asyncio.run(scenario())
    rows = status(store)
    assert rows[refused] == ("failed", "refused (45015): out of window")
    assert rows[gone] == ("failed", "recipient gone: blocked by the user")
    assert rows[down] == ("failed", "unavailable after 3 attempts: HTTP 502")
    assert rows[skipped] == ("failed", "opted out")
    assert rows[fine] == ("sent", None)
    assert calls.count("d") == 3 and "s" not in calls  # retried with backoff, then given up; skipped never sent
    assert sorted(audited) == sorted([(refused, rows[refused][1]), (gone, rows[gone][1]), (down, rows[down][1]),
                                      (skipped, "opted out")])
