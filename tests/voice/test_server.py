"""The webhooks over real HTTP on 127.0.0.1: signed TwiML, status callbacks, the Media Stream's admission."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from typing import Any

import aiohttp
import pytest

from tests.voice.call_kit import (
    AUTH_TOKEN,
    PUBLIC,
    STREAM_URL,
    RecordingTelephony,
    ScriptedDialogue,
    ask,
    running,
    seed,
    twilio_signature,
)

CALL = "CA" + "1" * 32
OTHER = "CA" + "2" * 32


def twilio_form(call_sid: str = CALL, status: str = "in-progress", **extra: str) -> dict[str, str]:
    return {"AccountSid": "AC" + "0" * 31 + "1", "CallSid": call_sid, "CallStatus": status, "From": "+8657100000000",
            "To": "+8613900139000", "Direction": "outbound-api", "ApiVersion": "2010-04-01", **extra}


async def test_twiml_connects_the_call_to_our_stream(store: Any) -> None:
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id, call_sid=None, outcome="initiated")
        response = await r.post(f"/voice/twiml?attempt={attempt}", twilio_form(AnsweredBy="human"))
        body = await response.text()
    assert response.status == 200 and response.content_type == "text/xml"
    assert (f'<Connect><Stream url="wss://voice.example.org/voice/stream"><Parameter name="attempt" '
            f'value="{attempt}" /></Stream></Connect>') in body
    view = store.get_contact_attempt(attempt)
    assert (view.external_id, view.outcome, view.detail["answered_by"]) == (CALL, "in-progress", "human")


@pytest.mark.parametrize("how", ["forged", "missing", "host header", "other account"])
async def test_a_forged_twiml_request_is_refused_and_changes_nothing(store: Any, how: str) -> None:
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id, call_sid=None, outcome="initiated")
        path = f"/voice/twiml?attempt={attempt}"
        if how == "forged":
            response = await r.post(path, twilio_form(), signed_url=PUBLIC + f"/voice/twiml?attempt={attempt + 1}")
        elif how == "missing":
            response = await r.post(path, twilio_form(), token="")
        elif how == "host header":  # signed over the URL we are reached at, not the public one Twilio uses
            response = await r.post(path, twilio_form(), signed_url=r.base + path)
        else:
            response = await r.post(path, twilio_form(), token="someone-elses-token")
    assert response.status == 403
    view = store.get_contact_attempt(attempt)
    assert (view.external_id, view.outcome, view.ended_at) == (None, "initiated", None)


async def test_a_machine_is_hung_up_on_and_its_stream_refused(store: Any) -> None:
    resident = seed(store)
    dialogue = ScriptedDialogue(store, [ask("Q1")])
    async with running(store, dialogue) as r:
        attempt = r.attempt(store, resident.id, call_sid=None, outcome="initiated")
        response = await r.post(f"/voice/twiml?attempt={attempt}", twilio_form(AnsweredBy="machine_start"))
        assert (await response.text()).endswith("<Response><Hangup /></Response>")
        phone = await r.phone(CALL)
        await phone.start(attempt)
        await asyncio.wait_for(phone.closed.wait(), 5)
    assert store.get_contact_attempt(attempt).detail["answered_by"] == "machine_start"
    assert dialogue.turns == []


async def test_twiml_for_an_unknown_or_ended_attempt_hangs_up(store: Any) -> None:
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        ended = r.attempt(store, resident.id)
        store.advance_contact_attempt(ended, "completed", after=("in-progress",), ended=True)
        for attempt in (ended, ended + 50, "x"):
            response = await r.post(f"/voice/twiml?attempt={attempt}", twilio_form())
            assert (await response.text()).endswith("<Hangup /></Response>")


async def test_status_callbacks_move_the_attempt_forward_only_and_once(store: Any) -> None:
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id, call_sid=None, outcome="initiated")
        path = f"/voice/status?attempt={attempt}"
        seen = []
        for status in ("initiated", "ringing", "in-progress"):
            assert (await r.post(path, twilio_form(status=status))).status == 204
            seen.append(store.get_contact_attempt(attempt).outcome)
        done = twilio_form(status="completed", CallDuration="37", AnsweredBy="human")
        assert (await r.post(path, done)).status == 204
        first = store.get_contact_attempt(attempt)
        assert (await r.post(path, done)).status == 204  # Twilio retries a callback
        assert (await r.post(path, twilio_form(status="ringing"))).status == 204  # late and out of order
        ended = await r.server.wait_ended(attempt, timeout=1)
    assert seen == ["initiated", "ringing", "in-progress"]
    assert (ended.outcome, ended.ended_at, ended.external_id) == ("completed", first.ended_at, CALL)
    assert ended.detail == {"questionnaire": "daily_health", "duration": 37, "answered_by": "human"}


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed", "canceled"])
async def test_unanswered_outcomes_are_recorded(store: Any, outcome: str) -> None:
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id, outcome="ringing")
        assert (await r.post(f"/voice/status?attempt={attempt}", twilio_form(status=outcome))).status == 204
    view = store.get_contact_attempt(attempt)
    assert view.outcome == outcome and view.ended_at is not None


async def test_bad_status_callbacks_get_defined_answers_and_change_nothing(store: Any) -> None:
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id)
        path = f"/voice/status?attempt={attempt}"
        assert (await r.post(path, twilio_form(status="completed"), token="forged")).status == 403
        assert (await r.post(path, twilio_form(status="exploded"))).status == 400
        assert (await r.post(path, twilio_form(OTHER, status="completed"))).status == 409
        assert (await r.post(f"/voice/status?attempt={attempt + 9}", twilio_form(status="completed"))).status == 404
    view = store.get_contact_attempt(attempt)
    assert (view.outcome, view.ended_at) == ("in-progress", None)


async def test_a_json_status_callback_is_checked_by_its_body_hash(store: Any) -> None:
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id)
        body = json.dumps(twilio_form(status="completed"))
        path = f"/voice/status?attempt={attempt}&bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"
        headers = {"X-Twilio-Signature": twilio_signature(AUTH_TOKEN, PUBLIC + path),
                   "Content-Type": "application/json"}
        tampered = await r.http.post(r.base + path, data=body.replace("completed", "busy"), headers=headers)
        unhashed = await r.http.post(r.base + f"/voice/status?attempt={attempt}", data=body, headers=headers)
        assert (tampered.status, unhashed.status) == (403, 403)
        assert store.get_contact_attempt(attempt).outcome == "in-progress"
        response = await r.http.post(r.base + path, data=body, headers=headers)
    assert response.status == 204 and store.get_contact_attempt(attempt).outcome == "completed"


@pytest.mark.parametrize("case", ["unknown", "finished", "other call", "not mulaw"])
async def test_a_stream_for_a_call_that_is_not_live_is_closed_with_nothing_stored(store: Any, case: str) -> None:
    resident = seed(store)
    dialogue = ScriptedDialogue(store, [ask("Q1")])
    async with running(store, dialogue) as r:
        attempt = r.attempt(store, resident.id)
        if case == "finished":
            store.advance_contact_attempt(attempt, "completed", after=("in-progress",), ended=True)
        phone = await r.phone(OTHER if case == "other call" else CALL)
        await phone.start(attempt + 7 if case == "unknown" else attempt,
                          encoding="audio/l16" if case == "not mulaw" else "audio/x-mulaw")
        with contextlib.suppress(ConnectionResetError):  # the server may close before these are sent
            await phone.media(b"\x10" * 160, 3)
        await asyncio.wait_for(phone.closed.wait(), 5)
        assert phone.received == []
    assert dialogue.turns == [] and store.latest_submission(resident.id) is None
    assert "call_result" not in (store.get_contact_attempt(attempt).detail or {})


async def test_the_stream_upgrade_must_be_signed_over_our_wss_url(store: Any) -> None:
    resident = seed(store)
    dialogue = ScriptedDialogue(store, [ask("Q1")])
    async with running(store, dialogue) as r:
        for headers in ({"X-Twilio-Signature": twilio_signature("forged", STREAM_URL)},  # another account
                        {"X-Twilio-Signature": twilio_signature(AUTH_TOKEN, PUBLIC + "/voice/stream")},  # https
                        {"X-Twilio-Signature": ""}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await r.phone(CALL, **headers)
            assert refused.value.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as unsigned:
            await r.phone(CALL, token=None)
        assert unsigned.value.status == 403
        attempt = r.attempt(store, resident.id)
        phone = await r.phone(CALL)  # signed by Twilio's rule: HMAC-SHA1 of wss://…/voice/stream, no fields
        await phone.start(attempt)
        await phone.wait_marks(2)
        await phone.stop()
        await asyncio.wait_for(phone.closed.wait(), 5)
    assert len(dialogue.turns) == 1


async def test_malformed_frames_do_not_break_the_stream(store: Any) -> None:
    resident = seed(store)
    dialogue = ScriptedDialogue(store, [ask("Q1"), []])
    telephony = RecordingTelephony()
    async with running(store, dialogue, telephony=telephony) as r:
        attempt = r.attempt(store, resident.id)
        phone = await r.phone(CALL)
        await phone.ws.send_str("not json at all")
        await phone.ws.send_bytes(b"\x00\x01")
        await phone.start(attempt)
        await phone.ws.send_str('{"event": "media", "media": {"payload": "%%%"}}')
        await phone.wait_marks(2)
        await phone.key("1")
        await asyncio.wait_for(phone.closed.wait(), 5)
    assert [t[1] for t in dialogue.turns][1:] == ["1"]
    assert telephony.hangups == [CALL]
