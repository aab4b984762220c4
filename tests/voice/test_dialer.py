"""The dialer: one contact attempt per call, pacing, the concurrency cap, skips, refused calls recorded."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from gridreach.errors import TelephonyError
from tests.voice.call_kit import voice_settings
from tests.voice.test_twilio_api import calls_api, telephony  # noqa: F401  (the loopback Calls API fixture)
from voice_caller.dialer import Dialer


@dataclass
class Placed:
    sid: str


@dataclass
class Phones:
    """Our telephony and callback ports: records placements (with the loop time), holds each call open until
    released, and counts how many calls are live at once."""

    placed: list[tuple[float, str, str, str]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    live: int = 0
    most_live: int = 0
    hold: float = 0.05

    async def place_call(self, to: str, twiml_url: str, status_url: str) -> Placed:
        if to in self.refuse:
            raise TelephonyError("Twilio refused to place a call: HTTP 400, error 21211", status=400, code=21211)
        self.placed.append((asyncio.get_running_loop().time(), to, twiml_url, status_url))
        self.live += 1
        self.most_live = max(self.most_live, self.live)
        return Placed(f"CA{len(self.placed):032x}")

    def twiml_url(self, attempt_id: int) -> str:
        return f"https://voice.example.org/voice/twiml?attempt={attempt_id}"

    def status_url(self, attempt_id: int) -> str:
        return f"https://voice.example.org/voice/status?attempt={attempt_id}"

    async def wait_ended(self, attempt_id: int, timeout: float) -> None:
        await asyncio.sleep(self.hold)
        self.live -= 1


def residents(store: Any, count: int) -> list[Any]:
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "D01", "拨号网格")
    ids = [store.add_resident("D01", f"{i}号", f"居民{i}", f"+861390013{i:04d}") for i in range(count)]
    return [store.get_resident(i) for i in ids]


async def test_each_call_is_one_attempt_with_its_call_sid(store: Any) -> None:
    people = residents(store, 3)
    phones = Phones()
    outcomes = await Dialer(voice_settings(calls_per_second=100.0), store, phones, phones).dial(people, "daily_health")
    assert [o.outcome for o in outcomes] == ["initiated"] * 3
    by_attempt = {int(twiml.rsplit("=", 1)[1]): (to, twiml, status) for _, to, twiml, status in phones.placed}
    assert len(by_attempt) == 3
    for outcome in outcomes:  # the calls start concurrently: in any order
        to, twiml, status = by_attempt[outcome.attempt_id]
        attempt = store.get_contact_attempt(outcome.attempt_id)
        assert (attempt.channel, attempt.outcome, attempt.external_id) == ("voice", "initiated", outcome.call_sid)
        assert attempt.detail == {"questionnaire": "daily_health"}
        assert twiml.endswith(f"attempt={attempt.id}") and status.endswith(f"attempt={attempt.id}")
        assert store.get_resident(attempt.resident_id).phone == to


async def test_calls_start_no_faster_than_the_rate(store: Any) -> None:
    people = residents(store, 6)
    phones = Phones(hold=0.0)
    await Dialer(voice_settings(calls_per_second=10.0, max_concurrent_calls=10), store, phones, phones).dial(
        people, "daily_health")
    starts = [t for t, *_ in phones.placed]
    assert len(starts) == 6
    # six starts take five 1/10 s slots (each measured after a database write, hence the slack)
    assert starts[-1] - starts[0] >= 5 / 10.0 - 0.1


async def test_no_more_calls_are_live_at_once_than_the_cap(store: Any) -> None:
    people = residents(store, 6)
    phones = Phones(hold=0.2)
    await Dialer(voice_settings(calls_per_second=100.0, max_concurrent_calls=2), store, phones, phones).dial(
        people, "daily_health")
    assert len(phones.placed) == 6 and phones.most_live == 2


async def test_opted_out_and_phoneless_residents_are_skipped_without_an_attempt(store: Any) -> None:
    people = residents(store, 3)
    store.record_opt_out(people[0].id, "voice")
    store.record_opt_out(people[1].id, "all")
    no_phone = store.get_resident(store.add_resident("D01", "9号", "无电话", None))
    phones = Phones()
    outcomes = await Dialer(voice_settings(), store, phones, phones).dial([*people, no_phone], "daily_health")
    assert [(o.outcome, o.reason) for o in outcomes] == [
        ("skipped", "opted_out"), ("skipped", "opted_out"), ("initiated", None), ("skipped", "no_phone")]
    assert len(phones.placed) == 1


async def test_a_refused_call_is_recorded_failed_and_the_rest_go_on(store: Any) -> None:
    people = residents(store, 2)
    phones = Phones(refuse={people[0].phone})
    outcomes = await Dialer(voice_settings(calls_per_second=100.0), store, phones, phones).dial(people, "daily_health")
    assert [o.outcome for o in outcomes] == ["failed", "initiated"]
    failed = store.get_contact_attempt(outcomes[0].attempt_id)
    assert failed.outcome == "failed" and failed.ended_at is not None and failed.detail["http_status"] == 400


async def test_twilio_busy_past_the_retries_is_a_failed_attempt(store: Any, calls_api: Any) -> None:  # noqa: F811
    api, base = calls_api
    api.fail = [429] * 5
    people = residents(store, 1)
    phones = Phones()
    dialer = Dialer(voice_settings(api_base_url=base), store, telephony(base), phones)
    outcome = (await dialer.dial(people, "daily_health", None))[0]
    assert outcome.outcome == "failed" and len(api.requests) == 3
    attempt = store.get_contact_attempt(outcome.attempt_id)
    assert (attempt.outcome, attempt.detail["http_status"], attempt.external_id) == ("failed", 429, None)
