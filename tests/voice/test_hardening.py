"""The voice server fails closed and stays responsive: webhooks are refused (403) before their body is read when
unsigned and when unreadable, bodies are capped per route (413), the Media Stream upgrade is signed and the socket
is bounded (start timeout, frame size, message rate, connections), no store call blocks the event loop, and what
is kept in memory is bounded. Real HTTP and a real websocket client on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.voice.call_kit import (
    AUTH_TOKEN,
    PUBLIC,
    SILENCE,
    ListenerKit,
    ScriptedDialogue,
    ScriptListener,
    ask,
    running,
    seed,
    twilio_signature,
)
from voice_caller import server as server_module
from voice_caller.call import MAX_BACKLOG
from voice_caller.server import BODY_LIMITS

CALL = "CA" + "1" * 32
FORM = {"AccountSid": "AC" + "0" * 31 + "1", "CallSid": CALL, "CallStatus": "completed", "To": "+8613900139000"}


async def raw_request(port: int, head: str, body: bytes = b"", wait: float = 3.0) -> int:
    """Send a request by hand (a body shorter than announced, if wanted); the status line's code, or 0 when the
    server said nothing within ``wait`` seconds (it was waiting for the body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), wait)
        return int(line.split()[1])
    except asyncio.TimeoutError:
        return 0
    finally:
        writer.close()


async def put_away(server: Any, attempt: int, timeout: float = 10.0) -> None:
    """Until the server has finished with the call's session (its end recorded, its result kept)."""
    for _ in range(int(timeout / 0.02)):
        if attempt not in server.sessions and attempt in server.results:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"call of attempt {attempt} still running")


def port_of(r: Any) -> int:
    return int(r.base.rsplit(":", 1)[1])


# ---- 12 + 13: webhooks -------------------------------------------------------------------------------------
async def test_an_unsigned_webhook_is_refused_before_its_body_is_read(store: Any) -> None:
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id)
        for path in (f"/voice/status?attempt={attempt}", f"/voice/twiml?attempt={attempt}"):
            head = (f"POST {path} HTTP/1.1\r\nHost: voice.example.org\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000000\r\n")
            assert await raw_request(port_of(r), head) == 403  # answered at once, the 100 MB never sent
    assert store.get_contact_attempt(attempt).outcome == "in-progress"


async def test_a_body_over_the_routes_cap_is_413_unread(store: Any) -> None:
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id)
        path = f"/voice/status?attempt={attempt}"
        signature = twilio_signature(AUTH_TOKEN, PUBLIC + path, FORM)
        head = (f"POST {path} HTTP/1.1\r\nHost: voice.example.org\r\nX-Twilio-Signature: {signature}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {BODY_LIMITS['/voice/status'] + 1}\r\n")
        assert await raw_request(port_of(r), head) == 413  # announced: refused before a byte is read

        big = {**FORM, "Padding": "x" * BODY_LIMITS["/voice/status"]}

        async def chunks() -> AsyncIterator[bytes]:  # not announced (chunked): cut off once past the cap
            text = urlencode(big).encode()
            for i in range(0, len(text), 1024):
                yield text[i:i + 1024]

        headers = {"X-Twilio-Signature": twilio_signature(AUTH_TOKEN, PUBLIC + path, big),
                   "Content-Type": "application/x-www-form-urlencoded"}
        response = await r.http.post(r.base + path, data=chunks(), headers=headers)
        assert response.status == 413
    assert store.get_contact_attempt(attempt).outcome == "in-progress"


UNREADABLE: dict[str, tuple[str, bytes]] = {
    "empty pair": ("application/x-www-form-urlencoded", b"CallSid=CA1&&CallStatus=completed"),
    "no equals": ("application/x-www-form-urlencoded", b"CallSid"),
    "bad percent utf-8": ("application/x-www-form-urlencoded", b"CallSid=%FF%FE&CallStatus=completed"),
    "raw bytes": ("application/x-www-form-urlencoded", b"CallSid=\xff\xfe"),
    "too many fields": ("application/x-www-form-urlencoded", "&".join(f"f{i}=1" for i in range(500)).encode()),
    "multipart": ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"),
    "text": ("text/plain", b"CallSid=CA1"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
@pytest.mark.parametrize("route", ["status", "twiml"])
async def test_an_unreadable_body_is_403_and_changes_nothing(store: Any, case: str, route: str) -> None:
    resident = seed(store)
    content_type, body = UNREADABLE[case]
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id, call_sid=None, outcome="initiated")
        path = f"/voice/{route}?attempt={attempt}"
        headers = {"X-Twilio-Signature": twilio_signature(AUTH_TOKEN, PUBLIC + path, {"CallSid": "CA1"}),
                   "Content-Type": content_type}
        response = await r.http.post(r.base + path, data=body, headers=headers)
        assert response.status == 403
    view = store.get_contact_attempt(attempt)
    assert (view.outcome, view.external_id, view.ended_at) == ("initiated", None, None)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe"])
async def test_a_signed_json_body_that_is_not_an_object_is_403(store: Any, body: bytes) -> None:
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id)
        path = f"/voice/status?attempt={attempt}&bodySHA256={hashlib.sha256(body).hexdigest()}"
        headers = {"X-Twilio-Signature": twilio_signature(AUTH_TOKEN, PUBLIC + path),
                   "Content-Type": "application/json"}
        response = await r.http.post(r.base + path, data=body, headers=headers)
        assert response.status == 403
    assert store.get_contact_attempt(attempt).outcome == "in-progress"


# ---- 7: the Media Stream -----------------------------------------------------------------------------------
async def close_code(phone: Any, timeout: float = 5.0) -> int | None:
    await asyncio.wait_for(phone.closed.wait(), timeout)
    return phone.ws.close_code


async def test_a_stream_that_sends_no_start_is_closed(store: Any) -> None:
    async with running(store, ScriptedDialogue(store, []), stream_start_timeout=0.5) as r:
        silent = await r.phone(CALL)
        chatty = await r.phone(CALL)
        await chatty.ws.send_str(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        began = time.monotonic()
        codes = [await close_code(silent), await close_code(chatty)]
        waited = time.monotonic() - began
    assert codes == [aiohttp.WSCloseCode.POLICY_VIOLATION] * 2 and waited < 3.0


async def test_a_frame_over_the_cap_closes_the_stream(store: Any) -> None:
    resident = seed(store)
    dialogue = ScriptedDialogue(store, [ask("Q1"), ask("Q2")])
    async with running(store, dialogue, max_frame_bytes=2048, silence_timeout=30) as r:
        attempt = r.attempt(store, resident.id)
        phone = await r.phone(CALL)
        await phone.start(attempt)
        await phone.wait_marks(2)
        await phone.ws.send_str(json.dumps({"event": "media", "media": {"payload": "A" * 4096}}))
        assert await close_code(phone) == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        await put_away(r.server, attempt)
    assert store.latest_submission(resident.id).status == "partial"  # the call ended like a dropped one


async def test_a_flood_of_messages_closes_the_stream(store: Any) -> None:
    resident = seed(store)
    dialogue = ScriptedDialogue(store, [ask("Q1"), ask("Q2")])
    async with running(store, dialogue, max_frames_per_second=20.0, silence_timeout=30) as r:
        attempt = r.attempt(store, resident.id)
        phone = await r.phone(CALL)
        await phone.start(attempt)
        await phone.wait_marks(2)
        frame = json.dumps({"event": "media", "streamSid": phone.stream_sid,
                            "media": {"track": "inbound", "payload": base64.b64encode(SILENCE).decode()}})
        for _ in range(200):  # 200 at once: far past 20 a second with 2 s of burst
            if phone.ws.closed:
                break
            await phone.ws.send_str(frame)
        assert await close_code(phone) == aiohttp.WSCloseCode.POLICY_VIOLATION


async def test_media_at_twilios_pace_is_not_mistaken_for_a_flood(store: Any) -> None:
    resident = seed(store)
    dialogue = ScriptedDialogue(store, [ask("Q1")])
    async with running(store, dialogue, silence_timeout=30) as r:  # the default 200 a second
        attempt = r.attempt(store, resident.id)
        phone = await r.phone(CALL)
        await phone.start(attempt)
        await phone.wait_marks(2)
        for _ in range(150):  # 3 s of audio, 50 frames a second as Twilio sends it
            await phone.media(SILENCE)
            await asyncio.sleep(0.018)
        assert not phone.closed.is_set()
        await phone.stop()
        await close_code(phone)


async def test_streams_beyond_the_cap_are_refused_until_one_closes(store: Any) -> None:
    async with running(store, ScriptedDialogue(store, []), max_streams=2, stream_start_timeout=30) as r:
        first, _second = await r.phone(CALL), await r.phone(CALL)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await r.phone(CALL)
        assert refused.value.status == 503
        await first.ws.close()
        for _ in range(100):
            if r.server.streams_open < 2:
                break
            await asyncio.sleep(0.02)
        third = await r.phone(CALL)
        assert not third.ws.closed


# ---- 8: no store call on the event loop --------------------------------------------------------------------
class SlowStore:
    """The store, with the calls that ``slow(name, args)`` picks taking ``delay`` seconds (a lock held elsewhere)."""

    def __init__(self, store: Any, slow: Callable[[str, tuple[Any, ...]], bool], delay: float = 3.0) -> None:
        self._store, self._slow, self._delay = store, slow, delay

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._slow(name, args):
                time.sleep(self._delay)
            return attr(*args, **kwargs)

        return call


async def test_a_store_call_blocking_3_s_does_not_stall_another_webhook(store: Any) -> None:
    resident = seed(store)
    stuck = store.record_contact_attempt(resident.id, None, "voice", "initiated", detail={"questionnaire": "x"})
    slow = SlowStore(store, lambda name, args: name == "get_contact_attempt" and args == (stuck,))
    async with running(slow, ScriptedDialogue(store, [])) as r:
        other = r.attempt(store, resident.id, call_sid=None, outcome="initiated")
        lag: list[float] = []

        async def ticker() -> None:  # how late the event loop runs a 10 ms timer
            loop = asyncio.get_running_loop()
            while True:
                at = loop.time()
                await asyncio.sleep(0.01)
                lag.append(loop.time() - at - 0.01)

        ticks = asyncio.ensure_future(ticker())
        began = time.monotonic()
        blocked = asyncio.ensure_future(r.post(f"/voice/status?attempt={stuck}", {**FORM, "CallStatus": "ringing"}))
        await asyncio.sleep(0.2)
        quick = await r.post(f"/voice/twiml?attempt={other}", {**FORM, "CallStatus": "in-progress"})
        answered_in = time.monotonic() - began
        assert quick.status == 200 and "<Connect>" in await quick.text()
        assert (await blocked).status == 204
        blocked_for = time.monotonic() - began
        ticks.cancel()
    assert answered_in < 1.0 <= 3.0 <= blocked_for
    assert max(lag) < 0.5  # the loop never stood still while the store was stuck
    assert store.get_contact_attempt(stuck).outcome == "ringing"


async def test_a_call_whose_store_is_stuck_does_not_stall_the_webhooks(store: Any) -> None:
    resident = seed(store)
    slow = SlowStore(store, lambda name, args: name == "grid_worker_for")  # the greeting's worker name
    async with running(slow, ScriptedDialogue(store, [ask("Q1")]), silence_timeout=30) as r:
        attempt = r.attempt(store, resident.id)
        other = r.attempt(store, resident.id, call_sid=None, outcome="initiated")
        phone = await r.phone(CALL)
        await phone.start(attempt)
        await asyncio.sleep(0.3)  # the call has started; its store call hangs for 3 s
        began = time.monotonic()
        quick = await r.post(f"/voice/status?attempt={other}",
                             {**FORM, "CallSid": "CA" + "3" * 32, "CallStatus": "ringing"})
        answered_in = time.monotonic() - began
        await phone.wait_marks(2, timeout=10)  # the call goes on once the store answers
        await phone.stop()
        await close_code(phone)
    assert quick.status == 204 and answered_in < 1.0
    assert store.get_contact_attempt(other).outcome == "ringing"


# ---- 19: bounded memory ------------------------------------------------------------------------------------
async def test_call_results_kept_in_memory_are_bounded(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "_KEEP_RESULTS", 2)
    resident = seed(store)
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempts = []
        for n in range(3):
            attempt = r.attempt(store, resident.id, call_sid=f"CA{n:032d}")
            phone = await r.phone(f"CA{n:032d}")
            await phone.start(attempt)
            await close_code(phone, 10)
            await put_away(r.server, attempt)
            attempts.append(attempt)
        kept = list(r.server.results)
    assert kept == attempts[1:]  # the oldest went; every result is in its attempt's detail anyway
    assert all("call_result" in (store.get_contact_attempt(a).detail or {}) for a in attempts)


class SlowListener(ScriptListener):
    """A recogniser far slower than the line: each feed takes 2 s; remembers the largest chunk it was given."""

    largest = 0

    def feed(self, ulaw8k: bytes) -> Any:
        SlowListener.largest = max(SlowListener.largest, len(ulaw8k))
        time.sleep(2.0)
        return super().feed(ulaw8k)


class SlowKit(ListenerKit):
    def __call__(self, expect: Any) -> SlowListener:
        self.built.append(expect)
        return SlowListener([])


async def test_audio_waiting_for_a_slow_recogniser_is_bounded(store: Any) -> None:
    resident = seed(store)
    SlowListener.largest = 0
    dialogue = ScriptedDialogue(store, [ask("Q1")])
    async with running(store, dialogue, listeners=SlowKit(), silence_timeout=60, max_frames_per_second=5000) as r:
        attempt = r.attempt(store, resident.id)
        phone = await r.phone(CALL)
        await phone.start(attempt)
        await phone.wait_marks(2)
        frame = json.dumps({"event": "media", "streamSid": phone.stream_sid,
                            "media": {"track": "inbound", "payload": base64.b64encode(SILENCE * 10).decode()}})
        for _ in range(150):  # 30 s of audio (200 ms a message) in well under the 2 s of one feed
            await phone.ws.send_str(frame)
        await asyncio.sleep(4.5)
        await phone.stop()
        await close_code(phone, 15)
        await put_away(r.server, attempt)
        result = r.server.results[attempt]
    assert 0 < SlowListener.largest <= MAX_BACKLOG
    assert result.details["audio_dropped_ms"] >= 10_000  # at least 20 s arrived while 10 s could wait
