"""A resident is phoned once: a create whose reply was lost is looked up and adopted, never placed again blindly,
and a second call inside GRIDREACH_CALL_MIN_INTERVAL is refused from the database (any process, any restart).

Everything runs against the loopback fake Twilio (gridreach_fakes/twilio/), which makes the call and then loses the
reply (timeout, reset connection, 500) and answers the Calls list with the documented filters.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from twilio.base.exceptions import TwilioException

from gridreach.errors import TelephonyError
from gridreach.store import Store
from gridreach_app.action_server import free_port
from gridreach_fakes.twilio import Callee, FakeTwilio
from tests.voice.call_kit import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FakeSpeaker,
    ListenerKit,
    RecordingTelephony,
    ScriptedDialogue,
    seed,
    voice_settings,
)
from voice_caller.dialer import Dialer
from voice_caller.server import VoiceServer
from voice_caller.twilio_api import TwilioTelephony

TO = "+8613900139000"
FROM = "+8657100000000"
HOOKS = ("http://127.0.0.1:9/voice/twiml?attempt=1", "http://127.0.0.1:9/voice/status?attempt=1")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, default=Callee("no-answer", ring=0.3)) as twilio:
        yield twilio


def telephony(fake: FakeTwilio, **changes: Any) -> TwilioTelephony:
    settings = voice_settings(api_base_url=fake.base_url, public_base_url="http://127.0.0.1:9", **changes)
    return TwilioTelephony(settings, retries=2, backoff=0.05, timeout=1.0)


def methods(fake: FakeTwilio) -> list[tuple[str, int]]:
    return [(r.method, r.status) for r in fake.requests]


# ---- the REST client: look up before any retry ---------------------------------------------------------------
@pytest.mark.parametrize("how", ["timeout", "reset", "500"])
def test_a_create_whose_reply_was_lost_is_adopted_not_placed_again(fake: FakeTwilio, how: str) -> None:
    fake.lose_next_create(how, hold=3.0)
    placed = telephony(fake).place_call_sync(TO, *HOOKS)
    calls = fake.created(TO)
    assert len(calls) == 1 and placed.sid == calls[0].sid and placed.adopted
    assert [m for m, _ in methods(fake)].count("POST") == 1  # never a second create
    listed = [r.params for r in fake.requests if r.method == "GET"]
    assert listed and all(p["To"] == [TO] and p["From"] == [FROM] for p in listed)
    assert any("StartTime>" in p for p in listed) and any(p.get("Status") == ["queued"] for p in listed)


def test_a_5xx_that_created_nothing_is_looked_up_then_retried(fake: FakeTwilio) -> None:
    fake.fail_next(1, 503, "POST")
    placed = telephony(fake).place_call_sync(TO, *HOOKS)
    assert not placed.adopted and placed.tries == 2 and len(fake.created(TO)) == 1
    assert methods(fake) == [("POST", 503), ("GET", 200), ("GET", 200), ("POST", 201)]


def test_a_429_proves_nothing_was_made_and_is_retried_without_a_lookup(fake: FakeTwilio) -> None:
    fake.fail_next(1, 429, "POST")
    placed = telephony(fake).place_call_sync(TO, *HOOKS)
    assert placed.tries == 2 and methods(fake) == [("POST", 429), ("POST", 201)]


def test_when_the_lookup_fails_too_nothing_is_placed_again(fake: FakeTwilio) -> None:
    fake.lose_next_create("500")
    fake.fail_next(5, 503, "GET")
    with pytest.raises(TelephonyError) as caught:
        telephony(fake).place_call_sync(TO, *HOOKS)
    assert caught.value.unconfirmed and not caught.value.retryable
    assert "unknown" in str(caught.value) and "Twilio console" in str(caught.value)
    assert len(fake.created(TO)) == 1 and [m for m, _ in methods(fake)].count("POST") == 1


def test_an_older_call_to_the_same_number_is_not_taken_for_ours(fake: FakeTwilio) -> None:
    phone = telephony(fake)
    earlier = phone.place_call_sync(TO, *HOOKS)
    fake.calls[earlier.sid].created_at -= 3600  # this morning's call
    fake.lose_next_create("timeout", hold=3.0)
    placed = phone.place_call_sync(TO, *HOOKS)
    assert placed.adopted and placed.sid != earlier.sid and len(fake.created(TO)) == 2


# ---- the fake's Calls list, as Twilio documents it -----------------------------------------------------------
def test_the_fake_lists_calls_with_the_documented_filters(fake: FakeTwilio) -> None:
    phone = telephony(fake)
    first = phone.place_call_sync(TO, *HOOKS)
    other = phone.place_call_sync("+8613900139001", *HOOKS)
    client = phone._client
    today = time.strftime("%Y-%m-%d", time.gmtime())
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    assert [c.sid for c in client.calls.list(to=TO)] == [first.sid]
    assert {c.sid for c in client.calls.list(from_=FROM)} == {first.sid, other.sid}
    assert {c.sid for c in client.calls.list(start_time_after=today)} == {first.sid, other.sid}
    assert {c.sid for c in client.calls.list(start_time=today)} == {first.sid, other.sid}
    assert client.calls.list(start_time_before=yesterday) == []
    assert [c.sid for c in client.calls.list(page_size=1)] == [other.sid, first.sid]  # newest first, paged
    fake.calls[first.sid].started_at = None  # not dialled yet: no start time, no StartTime match
    assert [c.sid for c in client.calls.list(start_time_after=yesterday)] == [other.sid]
    fake.calls[other.sid].status = "queued"
    assert [c.sid for c in client.calls.list(status="queued")] == [other.sid]
    with pytest.raises(TwilioException) as caught:  # a malformed date is a 400, as Twilio answers it
        client.calls.list(start_time_after="07/12/2026")
    assert caught.value.args[1].status_code == 400
    fake.fail_next(1, 503, "GET")
    with pytest.raises(TelephonyError) as refused:  # a refused page is a TelephonyError with its status
        phone.find_calls_sync(TO, datetime.now(timezone.utc))
    assert (refused.value.status, refused.value.retryable) == (503, True)


# ---- the dialer: one call per resident per interval, in the database -----------------------------------------
@asynccontextmanager
async def dialling(store: Store, fake: FakeTwilio, **changes: Any) -> AsyncIterator[tuple[VoiceServer, Dialer]]:
    """Our server on a loopback port Twilio (the fake) calls back, and a dialer placing through the fake."""
    port = free_port()
    settings = voice_settings(api_base_url=fake.base_url, public_base_url=f"http://127.0.0.1:{port}",
                              calls_per_second=100.0, **changes)
    server = VoiceServer(settings, store, dialogue=ScriptedDialogue(store, []), speaker=FakeSpeaker(),
                         listeners=ListenerKit(), telephony=RecordingTelephony())
    await server.start("127.0.0.1", port)
    try:
        yield server, Dialer(settings, store, TwilioTelephony(settings, retries=2, backoff=0.05, timeout=1.0),
                             server)
    finally:
        await server.stop()


async def test_a_lost_reply_is_adopted_and_the_attempt_follows_the_call(store: Store, fake: FakeTwilio) -> None:
    resident = seed(store)
    fake.lose_next_create("reset")
    async with dialling(store, fake) as (server, dialer):
        placed = await dialer.place(resident, "daily_health", None)
        calls = fake.created(TO)
        assert placed.outcome == "initiated" and len(calls) == 1 and placed.call_sid == calls[0].sid
        attempt = await server.wait_ended(placed.attempt_id, 15)
    assert (attempt.external_id, attempt.outcome) == (calls[0].sid, "no-answer")
    assert attempt.detail["adopted"] is True


async def test_no_second_call_inside_the_interval_from_any_process(store: Store, db_url: str,
                                                                   fake: FakeTwilio) -> None:
    resident = seed(store)
    async with dialling(store, fake) as (server, dialer):
        first = await dialer.place(resident, "daily_health", None)
        await server.wait_ended(first.attempt_id, 15)
    # "gridreach call" run again, or the app restarted: another Store on the same database
    other = Store.from_url(db_url)
    try:
        async with dialling(other, fake) as (_, again):
            second = await again.place(other.get_resident(resident.id), "daily_health", None)
    finally:
        other.close()
    assert (second.outcome, second.reason, second.attempt_id) == ("skipped", "called_recently", first.attempt_id)
    started = store.get_contact_attempt(first.attempt_id).started_at
    assert second.not_before == started + timedelta(hours=4)  # the default interval
    assert len(fake.created(TO)) == 1


async def test_two_dialers_at_once_place_one_call(store: Store, db_url: str, fake: FakeTwilio) -> None:
    resident = seed(store)
    other = Store.from_url(db_url)
    try:
        async with dialling(store, fake) as (_, one), dialling(other, fake) as (_, two):
            outcomes = await asyncio.gather(one.place(resident, "daily_health", None),
                                            two.place(other.get_resident(resident.id), "daily_health", None))
    finally:
        other.close()
    assert sorted(o.outcome for o in outcomes) == ["initiated", "skipped"]
    assert len(fake.created(TO)) == 1


async def test_a_call_twilio_refused_does_not_hold_back_the_next(store: Store, fake: FakeTwilio) -> None:
    resident = seed(store)
    fake.fail_next(3, 429, "POST")  # the first try and both retries
    async with dialling(store, fake) as (_, dialer):
        refused = await dialer.place(resident, "daily_health", None)
        placed = await dialer.place(resident, "daily_health", None)
    assert refused.outcome == "failed" and store.get_contact_attempt(refused.attempt_id).detail["placed"] is False
    assert placed.outcome == "initiated" and len(fake.created(TO)) == 1


async def test_after_the_interval_the_resident_may_be_called_again(store: Store, fake: FakeTwilio) -> None:
    resident = seed(store)
    async with dialling(store, fake, call_min_interval=1.0) as (server, dialer):
        first = await dialer.place(resident, "daily_health", None)
        await server.wait_ended(first.attempt_id, 15)
        too_soon = await dialer.place(resident, "daily_health", None)
        await asyncio.sleep(1.1)
        later = await dialer.place(resident, "daily_health", None)
    assert (first.outcome, too_soon.outcome, later.outcome) == ("initiated", "skipped", "initiated")
    assert len(fake.created(TO)) == 2


async def test_an_unconfirmed_create_stays_open_and_its_callbacks_name_the_call(store: Store,
                                                                                fake: FakeTwilio) -> None:
    resident = seed(store)
    fake.lose_next_create("timeout", hold=3.0)
    fake.fail_next(5, 503, "GET")
    async with dialling(store, fake) as (server, dialer):
        placed = await dialer.place(resident, "daily_health", None)
        assert placed.outcome == "unconfirmed" and "unknown" in (placed.reason or "")
        call = fake.created(TO)[0]
        await asyncio.to_thread(fake.wait, call.sid, 15)
        attempt = await server.wait_ended(placed.attempt_id, 15)
        again = await dialer.place(resident, "daily_health", None)
    assert (attempt.external_id, attempt.outcome) == (call.sid, "no-answer")  # the status callbacks told us
    assert attempt.detail["unconfirmed"] is True
    assert again.reason == "called_recently" and len(fake.created(TO)) == 1


def test_the_store_knows_the_last_attempt_that_may_have_reached_a_resident(store: Store) -> None:
    resident = seed(store)
    assert store.last_contact_attempt(resident.id, "voice") is None
    refused = store.record_contact_attempt(resident.id, None, "voice", "failed", detail={"placed": False})
    assert store.last_contact_attempt(resident.id, "voice") is None  # Twilio proved nothing was created
    since = store.get_contact_attempt(refused).started_at - timedelta(minutes=1)
    first, none = store.reserve_contact_attempt(resident.id, None, "voice", since=since, detail={"q": 1})
    assert first is not None and none is None
    assert store.last_contact_attempt(resident.id, "voice").id == first
    again, earlier = store.reserve_contact_attempt(resident.id, None, "voice", since=since)
    assert again is None and earlier.id == first
    assert store.last_contact_attempt(resident.id, "telegram") is None  # per channel
