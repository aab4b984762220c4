"""The load side of bench/chat.py: simulated residents, the two columns (Rasa REST, the Telegram webhook with the
fake Bot API), one turn, the open and closed loops, and latency summaries. See bench/chat.py for what is measured."""

from __future__ import annotations

import asyncio
import heapq
import json
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from campaigns.triggers import start_message
from gridreach.identity import resident_sender_id
from gridreach_fakes.telegram import FakeTelegram

__all__ = ["Column", "Resident", "RestColumn", "Sample", "TelegramColumn", "TimedFake", "closed_loop",
           "latency_summary", "open_loop", "open_loop_residents", "warm_up"]

# typed answers to daily_health (temperature, cough, sore throat, breathing, taste/smell, contact, travel[, where])
SCRIPTS = {"zh": ["三十七度五", "有", "没有", "没有", "没有", "不确定", "有", "武汉"],
           "en": ["36.6", "no", "yes", "no", "no", "no", "no"]}
QUESTIONS = ["temperature", "cough", "sore_throat", "breathing", "taste_smell", "contact", "travel", "travel_place"]


# ---- simulated residents and one turn --------------------------------------------------------------------------
@dataclass
class Resident:
    id: int
    language: str
    user_id: int  # their Telegram user id (= private chat id)
    step: int = 0  # messages sent: 0 = screening not started, then one per answer
    answered: int = 0  # answers whose turn got its reply
    finished: bool = False
    failed: bool = False
    ready_at: float = 0.0

    @property
    def script(self) -> list[str]:
        return SCRIPTS[self.language]

    @property
    def kind(self) -> str:
        return "start" if self.step == 0 else "last" if self.step == len(self.script) else "answer"


@dataclass(frozen=True)
class Sample:
    kind: str
    latency: float
    ok: bool


class Column(ABC):
    """One side of the comparison: sends a resident's message and says whether the turn's reply arrived."""

    name = ""

    def __init__(self) -> None:
        self.client = httpx.AsyncClient(timeout=120.0, limits=httpx.Limits(max_connections=500))
        self.problems: dict[str, int] = {}

    async def close(self) -> None:
        await self.client.aclose()

    @abstractmethod
    def text(self, r: Resident) -> str:
        """What ``r`` types next (the start of the screening, or their next answer)."""

    @abstractmethod
    async def send(self, r: Resident, text: str) -> str | None:
        """None when the turn's reply arrived, else what went wrong."""

    async def turn(self, r: Resident) -> bool:
        try:
            problem = await self.send(r, self.text(r))
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        if problem is not None:
            self.problems[problem] = self.problems.get(problem, 0) + 1
        return problem is None


class RestColumn(Column):
    name = "rasa_rest"

    def __init__(self, base_url: str, campaign_id: int) -> None:
        super().__init__()
        self.url, self.start = f"{base_url}/webhooks/rest/webhook", start_message("daily_health", campaign_id)

    def text(self, r: Resident) -> str:
        return self.start if r.step == 0 else r.script[r.step - 1]

    async def send(self, r: Resident, text: str) -> str | None:
        body = {"sender": resident_sender_id(r.id), "message": text,
                "metadata": {"channel": "rest", "message_id": f"{r.id}:{r.step}"}}
        response = await self.client.post(self.url, json=body)
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        expects = [m["custom"]["expect"] for m in response.json() if isinstance((m.get("custom") or {}).get("expect"),
                                                                                 dict)]
        if r.kind == "last":
            return None if not expects else "asked again after the last answer"
        return None if expects and expects[-1].get("question") == QUESTIONS[r.step] else "not the next question"


class TelegramColumn(Column):
    name = "gridreach_telegram"

    def __init__(self, fake: FakeTelegram, hook: str, secret: str, token: str) -> None:
        super().__init__()
        self.fake, self.hook, self.start = fake, hook, f"/start {token}"
        self.headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}

    def text(self, r: Resident) -> str:
        return self.start if r.step == 0 else r.script[r.step - 1]

    async def send(self, r: Resident, text: str) -> str | None:
        user = self.fake.user(r.user_id, "居民" if r.language == "zh" else "Resident", r.language)
        before = len(self.fake.messages(r.user_id))
        update = self.fake.private_text_update(user, text)
        response = await self.client.post(self.hook, content=json.dumps(update, ensure_ascii=False).encode(),
                                          headers=self.headers)
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        return None if len(self.fake.messages(r.user_id)) > before else "no reply reached Telegram"


async def step(column: Column, r: Resident, scheduled: float, think: float, samples: list[Sample]) -> None:
    """One turn of ``r``, its latency from ``scheduled``; the resident then reads the next question."""
    loop = asyncio.get_running_loop()
    kind = r.kind
    ok = await column.turn(r)
    done = loop.time()
    samples.append(Sample(kind, done - scheduled, ok))
    if not ok:
        r.failed = True
        return
    r.answered += kind != "start"
    r.step += 1
    r.finished = kind == "last"
    r.ready_at = done + think


def _next(pool: Iterator[Resident]) -> Resident:
    try:
        return next(pool)
    except StopIteration:
        raise SystemExit("the benchmark ran out of prepared residents (a bug in its sizing)") from None


async def warm_up(column: Column, pool: Iterator[Resident], screenings: int) -> None:
    """Whole screenings one at a time, unmeasured (the first turns of a fresh server are slow)."""
    for _ in range(screenings):
        r = _next(pool)
        while not (r.finished or r.failed):
            await asyncio.sleep(max(0.0, r.ready_at - asyncio.get_running_loop().time()))
            await step(column, r, asyncio.get_running_loop().time(), 1.0, [])


def open_loop_residents(rate: float) -> int:
    """Residents in a screening at once in the open loop: enough for 3 s per turn at ``rate``."""
    return int(rate * 3) + 2


async def open_loop(column: Column, pool: Iterator[Resident], rate: float, count: int, think: float,
                    seed: int) -> tuple[list[Sample], dict[str, Any]]:
    loop, rng = asyncio.get_running_loop(), random.Random(seed)
    max_residents = open_loop_residents(rate)
    samples: list[Sample] = []
    ready: list[tuple[float, int, Resident]] = []  # residents reading their question, by when they may answer
    active: set[int] = set()
    tasks: list[asyncio.Task[None]] = []
    t0 = at = loop.time() + 0.2
    lag = 0.0

    async def one(r: Resident, scheduled: float) -> None:
        await step(column, r, scheduled, think, samples)
        active.discard(r.id)
        if not (r.finished or r.failed):
            heapq.heappush(ready, (r.ready_at, r.id, r))

    for _ in range(count):
        at += rng.expovariate(rate)
        await asyncio.sleep(max(0.0, at - loop.time()))
        lag = max(lag, loop.time() - at)
        while not (ready and ready[0][0] <= loop.time()) and len(active) + len(ready) >= max_residents:
            await asyncio.sleep(0.005)  # everyone is busy: the arrival waits (and its latency with it)
        r = heapq.heappop(ready)[2] if ready and ready[0][0] <= loop.time() else _next(pool)
        active.add(r.id)
        tasks.append(asyncio.ensure_future(one(r, at)))
    await asyncio.gather(*tasks)
    span = loop.time() - t0
    return samples, {"offered_rate": rate, "messages": count, "achieved_rate": round(count / span, 2),
                     "residents_at_once_max": max_residents, "generator_lag_ms_max": round(lag * 1000, 1)}


async def closed_loop(column: Column, pool: Iterator[Resident], concurrency: int, turns: int,
                      think: float) -> tuple[list[Sample], dict[str, Any]]:
    loop = asyncio.get_running_loop()
    samples: list[Sample] = []
    done: list[float] = []
    left = [turns]

    async def resident_after_resident() -> None:
        r = _next(pool)
        while left[0] > 0:
            left[0] -= 1
            await asyncio.sleep(max(0.0, r.ready_at - loop.time()))
            await step(column, r, loop.time(), think, samples)
            done.append(loop.time())
            if r.finished or r.failed:
                r = _next(pool)

    start = loop.time()
    await asyncio.gather(*(resident_after_resident() for _ in range(concurrency)))
    done.sort()
    lo, hi = int(len(done) * 0.1), max(int(len(done) * 0.9) - 1, 0)
    steady = (hi - lo) / (done[hi] - done[lo]) if hi > lo and done[hi] > done[lo] else None
    return samples, {"concurrency": concurrency, "turns": turns,
                     "messages_per_s": None if steady is None else round(steady, 2),
                     "messages_per_s_whole_run": round(len(done) / (done[-1] - start), 2) if done else None}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency_summary(samples: list[Sample]) -> dict[str, Any] | None:
    if not samples:
        return None
    values = [s.latency * 1000 for s in samples]
    return {"n": len(values), **{name: round(percentile(values, q), 1) for name, q in
                                 (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))},
            "max": round(max(values), 1), "mean": round(sum(values) / len(values), 1)}


class TimedFake(FakeTelegram):
    """The fake Telegram, noting when each sendMessage was taken or refused, to tell which limit a 429 came from."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sends: list[tuple[float, Any, bool]] = []  # (monotonic time, chat id, accepted)

    def call(self, method: str, params: dict[str, Any]) -> Any:
        if method != "sendMessage":
            return super().call(method, params)
        try:
            result = super().call(method, params)
        except Exception:
            with self.lock:
                self.sends.append((time.monotonic(), params.get("chat_id"), False))
            raise
        with self.lock:
            self.sends.append((time.monotonic(), params.get("chat_id"), True))
        return result

    def refusals(self) -> dict[str, int]:
        """Refused sendMessage calls by cause: the chat had a message in the second before, or 30 chats had."""
        with self.lock:
            sends = list(self.sends)
        causes = {"per_chat": 0, "overall": 0, "other": 0}
        for t, chat, accepted in sends:
            if accepted:
                continue
            window = [(c, ok) for u, c, ok in sends if ok and t - 1.0 < u <= t]
            cause = "per_chat" if any(c == chat for c, _ in window) else "overall" if len(window) >= 30 else "other"
            causes[cause] += 1
        return causes
