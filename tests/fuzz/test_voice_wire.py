"""Random input against the voice parsers and the running server: nothing crashes, every answer is a defined one.

A seeded generator (no extra dependency) mixes random bytes and text, Twilio's documented messages with keys
dropped and values replaced by any JSON (deep nesting, Infinity, huge numbers, wrong types), and form bodies.
``GRIDREACH_FUZZ_ITERATIONS`` (default 3000 parser inputs, a tenth of that over HTTP) and ``GRIDREACH_FUZZ_SEED``
make it a long run: e.g. ``GRIDREACH_FUZZ_ITERATIONS=2000000`` runs for several minutes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from tests.voice.call_kit import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC,
    ScriptedDialogue,
    ask,
    running,
    seed,
    twilio_signature,
)
from voice_caller.media_stream import Connected, Dtmf, Malformed, Mark, Media, Start, Stop, parse
from voice_caller.server import _parse_form

ITERATIONS = int(os.environ.get("GRIDREACH_FUZZ_ITERATIONS", "3000"))
SEED = int(os.environ.get("GRIDREACH_FUZZ_SEED", "20261207"))
CALL = "CA" + "1" * 32
EVENTS = (Connected, Start, Media, Dtmf, Mark, Stop, Malformed)


def any_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(10 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 2**70, float("inf"), float("-inf"), 1e308, -0.0, 8000, 3.5])
    if kind == 2:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(12)))
    if kind == 3:
        return rng.choice(["", "inbound", "outbound", "audio/x-mulaw", "1", "#", "AAAA", "%%%", CALL])
    if kind == 4:
        return base64.b64encode(rng.randbytes(rng.randrange(400))).decode()
    if kind == 5:
        return rng.randrange(-10**6, 10**6)
    if kind in (6, 7):
        return [any_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["event", "start", "media", "payload", "streamSid", "callSid", "mark", "name", "dtmf",
                        "digit", "customParameters", "mediaFormat", "sampleRate", "tracks", "x"]):
            any_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def twilio_message(rng: random.Random) -> dict[str, Any]:
    messages = [
        {"event": "connected", "protocol": "Call", "version": "1.0.0"},
        {"event": "start", "sequenceNumber": "1", "streamSid": "MZ1", "start": {
            "accountSid": ACCOUNT_SID, "streamSid": "MZ1", "callSid": CALL, "tracks": ["inbound"],
            "customParameters": {"attempt": "1"},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}},
        {"event": "media", "streamSid": "MZ1", "media": {"track": "inbound", "chunk": "2", "timestamp": "20",
                                                         "payload": base64.b64encode(b"\xff" * 160).decode()}},
        {"event": "dtmf", "streamSid": "MZ1", "dtmf": {"track": "inbound_track", "digit": "1"}},
        {"event": "mark", "streamSid": "MZ1", "mark": {"name": "p1"}},
        {"event": "stop", "streamSid": "MZ1", "stop": {"accountSid": ACCOUNT_SID, "callSid": CALL}},
    ]
    message = json.loads(json.dumps(rng.choice(messages)))
    for _ in range(rng.randrange(4)):
        target = message
        inner = [k for k, v in message.items() if isinstance(v, dict)]
        if inner and rng.random() < 0.6:
            target = message[rng.choice(inner)]
        keys = list(target)
        if keys and rng.random() < 0.4:
            del target[rng.choice(keys)]
        elif keys:
            target[rng.choice(keys)] = any_json(rng)
    return message


def frame(rng: random.Random) -> str | bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randbytes(rng.randrange(64))
    if kind == 1:
        codes = (rng.randrange(1, 0x10FFFF) for _ in range(rng.randrange(32)))
        return "".join(chr(c) for c in codes if not 0xD800 <= c <= 0xDFFF)
    if kind == 2:
        depth = rng.randrange(1, 20000)
        return "[" * depth + "]" * depth if rng.random() < 0.5 else '{"a":' * depth + "1" + "}" * depth
    if kind == 3:
        return json.dumps(any_json(rng), allow_nan=True)
    text = json.dumps(twilio_message(rng), allow_nan=True)
    if kind == 4 and text and rng.random() < 0.5:  # cut or corrupt one character
        at = rng.randrange(len(text))
        text = text[:at] + rng.choice(["", "\\", '"', "\x00", "}"]) + text[at + 1:]
    return text


def test_the_media_streams_parser_never_raises() -> None:
    rng = random.Random(SEED)
    seen: set[str] = set()
    for _ in range(ITERATIONS):
        event = parse(frame(rng))
        assert isinstance(event, EVENTS)
        seen.add(type(event).__name__)
    assert seen == {cls.__name__ for cls in EVENTS}  # the generator reaches every kind of message


def form_body(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.randbytes(rng.randrange(200))
    if kind == 1:
        return "&".join(rng.choice(["a=1", "", "=", "==", "a", "%", "%zz", "%FF", "b=%E4%BD%A0", "&", "c=+"])
                        for _ in range(rng.randrange(8))).encode()
    fields = {rng.choice(["CallSid", "CallStatus", "AnsweredBy", "CallDuration", "x"]): str(any_json(rng))
              for _ in range(rng.randrange(6))}
    text = urlencode(fields)
    return (text if kind == 2 else text.replace("=", rng.choice(["==", "", "=%"]), 1)).encode()


def test_the_form_reader_accepts_or_refuses_with_value_error_only() -> None:
    rng = random.Random(SEED + 1)
    read = refused = 0
    for _ in range(ITERATIONS):
        try:
            _parse_form(form_body(rng))
            read += 1
        except ValueError:
            refused += 1
    assert read and refused


async def test_the_server_gives_a_defined_answer_to_any_webhook(store: Any) -> None:
    rng = random.Random(SEED + 2)
    resident = seed(store)
    answers: dict[int, int] = {}
    async with running(store, ScriptedDialogue(store, [])) as r:
        attempt = r.attempt(store, resident.id)
        for _ in range(max(50, ITERATIONS // 10)):
            route = rng.choice(["status", "twiml"])
            path = f"/voice/{route}?attempt=" + rng.choice([str(attempt), str(attempt + 1), "x", quote("1 2")])
            body = form_body(rng)
            headers = {"Content-Type": rng.choice(["application/x-www-form-urlencoded", "application/json",
                                                   "text/plain", "multipart/form-data; boundary=z"])}
            how = rng.randrange(3)
            if how == 1:  # signed over the body as Twilio would (when it is a form at all)
                try:
                    fields = dict(_parse_form(body))
                except ValueError:
                    fields = {}
                headers["X-Twilio-Signature"] = twilio_signature(AUTH_TOKEN, PUBLIC + path, fields)
            elif how == 2:
                headers["X-Twilio-Signature"] = base64.b64encode(rng.randbytes(20)).decode()
            response = await r.http.post(r.base + path, data=body, headers=headers)
            await response.read()
            answers[response.status] = answers.get(response.status, 0) + 1
    assert set(answers) <= {200, 204, 400, 403, 404, 409, 413}, answers
    assert answers.get(403, 0) and answers.get(200, 0), answers  # refused and accepted requests both reached


async def test_the_server_survives_any_frame_on_a_live_stream(store: Any) -> None:
    rng = random.Random(SEED + 3)
    resident = seed(store)
    dialogue = ScriptedDialogue(store, [ask("Q1")] * 50)
    async with running(store, dialogue, silence_timeout=30, max_frames_per_second=100000) as r:
        for round_ in range(max(3, ITERATIONS // 1000)):
            attempt = r.attempt(store, resident.id, call_sid=f"CA{round_:032d}")
            phone = await r.phone(f"CA{round_:032d}")
            await phone.start(attempt)
            for _ in range(200):
                if phone.ws.closed:
                    break
                data = frame(rng)
                try:
                    if isinstance(data, bytes):
                        await phone.ws.send_bytes(data)
                    elif len(data.encode()) < 16000:
                        await phone.ws.send_str(data)
                except (ConnectionResetError, aiohttp.ClientError):
                    break
            await phone.stop()
            await asyncio.wait_for(phone.closed.wait(), 15)
            assert phone.ws.close_code in (aiohttp.WSCloseCode.OK, aiohttp.WSCloseCode.POLICY_VIOLATION,
                                           aiohttp.WSCloseCode.MESSAGE_TOO_BIG, None)
        # and the server still answers
        last = r.attempt(store, resident.id, call_sid="CA" + "e" * 32)
        phone = await r.phone("CA" + "e" * 32)
        await phone.start(last)
        await phone.wait_marks(2)
        await phone.stop()
        await asyncio.wait_for(phone.closed.wait(), 15)
