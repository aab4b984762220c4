"""Tests of the fakes themselves: Twilio's REST resource, signatures, the Media Streams wire, the resident's voice.

The application side here is a tiny aiohttp server written in this file (a signed TwiML webhook, a status
callback, a bidirectional Media Streams websocket that plays a prompt, sends marks and clears on a key), so the
fakes are checked against Twilio's documented shapes, not against our own voice caller.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import WSMsgType, web
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from gridreach_fakes.phone import HangUp, Keys, Phone, Say, Silence
from gridreach_fakes.speech import (
    FRAME_BYTES,
    SpeechError,
    closest_text,
    silence,
    speak,
    transcribe,
    ulaw_to_pcm16,
)
from gridreach_fakes.twilio import Callee, FakeTwilio, new_sid, sign

SID_LETTERS = set("0123456789abcdef")


# ---- a tiny application: TwiML webhook, status callback, Media Streams server -------------------------------
@dataclass
class App:
    token: str
    prompt: bytes
    base_url: str = ""
    webhooks: list[tuple[str, dict[str, str], bool]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    handshake_valid: list[bool] = field(default_factory=list)
    inbound_audio: bytearray = field(default_factory=bytearray)
    twiml: str = ""

    def validate(self, url: str, params: dict[str, str], signature: str) -> bool:
        return RequestValidator(self.token).validate(url, params, signature)

    async def twiml_hook(self, request: web.Request) -> web.Response:
        params = {k: str(v) for k, v in (await request.post()).items()}
        ok = self.validate(self.base_url + request.path_qs, params, request.headers.get("X-Twilio-Signature", ""))
        self.webhooks.append(("twiml", params, ok))
        if not ok:
            return web.Response(status=403)
        ws_url = self.base_url.replace("http://", "ws://") + "/stream"
        body = self.twiml or (
            f'<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="{ws_url}">'
            '<Parameter name="attempt" value="42"/><Parameter name="lang" value="ko"/></Stream></Connect></Response>'
        )
        return web.Response(text=body, content_type="text/xml")

    async def status_hook(self, request: web.Request) -> web.Response:
        params = {k: str(v) for k, v in (await request.post()).items()}
        ok = self.validate(self.base_url + request.path_qs, params, request.headers.get("X-Twilio-Signature", ""))
        self.webhooks.append(("status", params, ok))
        return web.Response(status=204 if ok else 403)

    async def stream(self, request: web.Request) -> web.WebSocketResponse:
        ws_url = self.base_url.replace("http://", "ws://") + request.path_qs
        self.handshake_valid.append(self.validate(ws_url, {}, request.headers.get("X-Twilio-Signature", "")))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        stream_sid = ""
        prompts = 0

        async def play(audio: bytes, mark: str) -> None:
            for i in range(0, len(audio), 320):  # 40 ms per message: Twilio takes any size
                payload = base64.b64encode(audio[i : i + 320]).decode()
                await ws.send_json({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})
            await ws.send_json({"event": "mark", "streamSid": stream_sid, "mark": {"name": mark}})

        speaking, quiet_frames = False, 0
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            message = json.loads(msg.data)
            self.messages.append(message)
            event = message["event"]
            if event == "start":
                stream_sid = message["streamSid"]
                prompts += 1
                await play(self.prompt, f"prompt-{prompts}")
            elif event == "media":
                frame = base64.b64decode(message["media"]["payload"])
                self.inbound_audio += frame
                if frame.strip(b"\xff"):  # a crude voice detector: any non-silent sample
                    speaking, quiet_frames = True, 0
                elif speaking:
                    quiet_frames += 1
                    if quiet_frames == 5:  # 100 ms of silence after speech: the answer is over
                        speaking = False
                        prompts += 1
                        await play(self.prompt[:1600], f"prompt-{prompts}")
            elif event == "dtmf" and message["dtmf"]["digit"] == "9":  # barge-in on a key: clear, next prompt
                await ws.send_json({"event": "clear", "streamSid": stream_sid})
                prompts += 1
                await play(self.prompt[:800], f"prompt-{prompts}")
            elif event == "dtmf" and message["dtmf"]["digit"] == "#":
                prompts += 1
                await play(self.prompt[:800], f"prompt-{prompts}")
            elif event == "stop":
                break
        await ws.close()
        return ws


@contextmanager
def serve(app: web.Application) -> Iterator[str]:
    """Serve an aiohttp app on 127.0.0.1 from a background event loop; yields its base URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = web.AppRunner(app)

    async def start() -> str:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    try:
        yield asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture(scope="module")
def prompt() -> bytes:
    return speak("기침이 있습니까?", "ko")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as twilio:
        yield twilio


@pytest.fixture
def app(fake: FakeTwilio, prompt: bytes) -> Iterator[App]:
    application = App(fake.auth_token, prompt)
    web_app = web.Application()
    web_app.router.add_post("/twiml", application.twiml_hook)
    web_app.router.add_post("/status", application.status_hook)
    web_app.router.add_get("/stream", application.stream)
    with serve(web_app) as url:
        application.base_url = url
        yield application


def client(fake: FakeTwilio, token: str | None = None) -> Client:
    c = Client(fake.account_sid, token or fake.auth_token)
    c.api.base_url = fake.base_url
    return c


def place(fake: FakeTwilio, app: App, to: str, **extra: Any) -> str:
    call = client(fake).calls.create(
        to=to, from_="+8610000000", url=app.base_url + "/twiml", status_callback=app.base_url + "/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"], **extra,
    )
    return str(call.sid)


def is_sid(value: Any, prefix: str) -> bool:
    return isinstance(value, str) and len(value) == 34 and value[:2] == prefix and set(value[2:]) <= SID_LETTERS


# ---- signatures ---------------------------------------------------------------------------------------------
def test_signature_matches_twilios_validator() -> None:
    token = "12345678901234567890123456789012"
    url = "https://example.org/voice/twiml?attempt=3"
    params = {"CallSid": new_sid("CA"), "From": "+8613800138000", "To": "+82105551234", "Digits": "1234#"}
    signature = sign(token, url, params)
    validator = RequestValidator(token)
    assert signature == validator.compute_signature(url, params)
    assert validator.validate(url, params, signature)
    assert not validator.validate(url, {**params, "Digits": "1"}, signature)
    assert not RequestValidator("another-token").validate(url, params, signature)
    assert sign(token, "wss://example.org/voice/stream") == validator.compute_signature(
        "wss://example.org/voice/stream", {})


# ---- REST ---------------------------------------------------------------------------------------------------
def test_create_call_returns_twilio_json_and_the_sdk_understands_it(fake: FakeTwilio) -> None:
    call = client(fake).calls.create(to="+8613900000001", from_="+8610000000", twiml="<Response><Hangup/></Response>")
    assert is_sid(call.sid, "CA") and call.status == "queued" and call.to == "+8613900000001"
    assert call.account_sid == fake.account_sid and call.direction == "outbound-api"
    assert fake.requests[-1].status == 201
    assert fake.requests[-1].params["To"] == ["+8613900000001"]
    ended = fake.wait(call.sid, 10)
    assert ended.status == "no-answer" and ended.webhooks == []  # the default callee; no callback URL given


def test_bad_credentials_get_twilios_401_body(fake: FakeTwilio) -> None:
    with pytest.raises(TwilioRestException) as caught:
        client(fake, token="wrong").calls.create(to="+8613900000001", from_="+8610000000", url="http://x/t")
    assert caught.value.status == 401 and caught.value.code == 20003
    response = httpx.post(f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Calls.json",
                          data={"To": "+1", "From": "+2", "Url": "http://x"})
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "more_info", "status"}
    assert fake.calls == {}


def test_missing_parameters_are_refused_with_twilio_codes(fake: FakeTwilio) -> None:
    with pytest.raises(TwilioRestException) as caught:
        client(fake).calls.create(to="+8613900000001", from_="+8610000000")
    assert caught.value.status == 400 and caught.value.code == 21205
    url = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Calls.json"
    response = httpx.post(url, data={"From": "+2", "Url": "http://x"}, auth=(fake.account_sid, fake.auth_token))
    assert response.status_code == 400 and response.json()["code"] == 21201
    assert fake.calls == {}


def test_rate_limit_and_server_errors_on_demand(fake: FakeTwilio) -> None:
    fake.fail_next(1, 429)
    fake.fail_next(1, 500)
    twilio = client(fake)
    for status, code in ((429, 20429), (500, 20500)):
        with pytest.raises(TwilioRestException) as caught:
            twilio.calls.create(to="+8613900000001", from_="+8610000000", twiml="<Response/>")
        assert (caught.value.status, caught.value.code) == (status, code)
    call = twilio.calls.create(to="+8613900000001", from_="+8610000000", twiml="<Response/>")
    assert [r.status for r in fake.requests] == [429, 500, 201]
    assert list(fake.calls) == [call.sid]


def test_update_of_unknown_or_finished_call(fake: FakeTwilio) -> None:
    twilio = client(fake)
    with pytest.raises(TwilioRestException) as caught:
        twilio.calls(new_sid("CA")).update(status="completed")
    assert caught.value.status == 404
    fake.expect("+8613900000002", Callee("busy"))
    sid = twilio.calls.create(to="+8613900000002", from_="+8610000000", twiml="<Response/>").sid
    assert fake.wait(sid, 10).status == "busy"
    with pytest.raises(TwilioRestException) as caught:
        twilio.calls(sid).update(twiml="<Response><Dial>+8613800138000</Dial></Response>")
    assert (caught.value.status, caught.value.code) == (400, 21220)
    assert twilio.calls(sid).fetch().status == "busy"


# ---- outcomes and callbacks ---------------------------------------------------------------------------------
@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed"])
def test_unanswered_outcomes_send_signed_callbacks(fake: FakeTwilio, app: App, outcome: str) -> None:
    fake.expect("+8613900000003", Callee(outcome))
    sid = place(fake, app, "+8613900000003")
    call = fake.wait(sid, 10)
    assert call.callback_statuses() == ["initiated", "ringing", outcome]
    assert all(kind == "status" and ok for kind, _, ok in app.webhooks)
    final = app.webhooks[-1][1]
    assert final["CallSid"] == sid and final["CallDuration"] == "0" and "AnsweredBy" not in final
    assert [hook.status for hook in call.callbacks] == [204, 204, 204]


def test_machine_detection_reports_answered_by(fake: FakeTwilio, app: App) -> None:
    fake.expect("+8613900000004", Callee("machine", script=[Say("안녕하세요"), HangUp()], speed=4))
    sid = place(fake, app, "+8613900000004", machine_detection="Enable")
    call = fake.wait(sid, 60)
    twiml = [p for kind, p, _ in app.webhooks if kind == "twiml"]
    assert twiml and twiml[0]["AnsweredBy"] == "machine_start"
    assert call.callbacks[-1].params["AnsweredBy"] == "machine_start"
    assert call.status == "completed"


# ---- a whole answered call ----------------------------------------------------------------------------------
def test_answered_call_speaks_the_documented_protocol(fake: FakeTwilio, app: App, prompt: bytes) -> None:
    answer = speak("네", "ko")
    fake.expect("+8613900000005", Callee(script=[Say("네"), Keys("12#"), HangUp()], speed=5, quiet=0.3,
                                                marks=True))
    sid = place(fake, app, "+8613900000005")
    call = fake.wait(sid, 60)

    assert call.status == "completed" and call.errors == []
    assert call.callback_statuses() == ["initiated", "ringing", "in-progress", "completed"]
    assert int(call.callbacks[-1].params["CallDuration"]) >= 1
    [(params, ok)] = [(p, ok) for kind, p, ok in app.webhooks if kind == "twiml"]
    assert ok and all(ok for _, _, ok in app.webhooks)
    assert {"AccountSid", "CallSid", "From", "To", "CallStatus", "Direction", "ApiVersion"} <= set(params)
    assert params["CallStatus"] == "in-progress" and params["Direction"] == "outbound-api"
    assert app.handshake_valid == [True]

    messages = app.messages
    assert "sequenceNumber" not in messages[0]
    assert messages[0] == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    start = messages[1]
    assert start["event"] == "start" and start["sequenceNumber"] == "1"
    assert is_sid(start["streamSid"], "MZ") and start["streamSid"] == start["start"]["streamSid"]
    assert start["start"]["callSid"] == sid and start["start"]["accountSid"] == fake.account_sid
    assert start["start"]["tracks"] == ["inbound"]
    assert start["start"]["customParameters"] == {"attempt": "42", "lang": "ko"}
    assert start["start"]["mediaFormat"] == {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
    assert [int(m["sequenceNumber"]) for m in messages[1:]] == list(range(1, len(messages)))
    media = [m for m in messages if m["event"] == "media"]
    assert [int(m["media"]["chunk"]) for m in media] == list(range(1, len(media) + 1))
    assert [int(m["media"]["timestamp"]) for m in media[:3]] == [0, 20, 40]
    assert all(m["media"]["track"] == "inbound" and len(base64.b64decode(m["media"]["payload"])) == FRAME_BYTES
               for m in media)
    assert answer[100:900] in bytes(app.inbound_audio)  # the resident's speech arrived intact
    dtmf = [m for m in messages if m["event"] == "dtmf"]
    assert [m["dtmf"] for m in dtmf] == [{"track": "inbound_track", "digit": d} for d in "12#"]
    marks = [m["mark"]["name"] for m in messages if m["event"] == "mark"]
    assert marks == ["prompt-1", "prompt-2", "prompt-3"]  # each echoed once its audio had played
    assert messages[-1]["event"] == "stop"
    assert messages[-1]["stop"] == {"accountSid": fake.account_sid, "callSid": sid}

    phone = call.phone
    assert phone is not None and phone.errors == [] and phone.ended_by == "caller"
    assert bytes(phone.turns[0].audio) == prompt and bytes(phone.turns[0].played) == prompt
    assert len(phone.latencies) == 2 and all(lat >= 0 for lat in phone.latencies)
    assert len(phone.mark_echoes) == 3 and phone.gaps == []


def test_clear_drops_queued_audio_and_echoes_pending_marks(fake: FakeTwilio, app: App, prompt: bytes) -> None:
    fake.expect("+8613900000006", Callee(script=[Keys("9", barge_in=True, after=0.2), HangUp()], speed=2, quiet=0.3))
    call = fake.wait(place(fake, app, "+8613900000006"), 60)
    phone = call.phone
    assert phone is not None and phone.errors == [] and phone.clears() == 1
    first = phone.turns[0]
    assert first.cleared == 1 and 0 < len(first.played) < len(prompt)
    events = [m["event"] for m in app.messages]
    assert events.index("dtmf") < events.index("mark")  # the mark came back with the clear, not after playback
    assert [m["mark"]["name"] for m in app.messages if m["event"] == "mark"] == ["prompt-1", "prompt-2"]
    assert bytes(phone.turns[1].played) == prompt[:800]  # the prompt after the clear played in full


def test_api_hangup_and_redirect_to_dial(fake: FakeTwilio, app: App) -> None:
    fake.expect("+8613900000007", Callee(script=[Silence(30)], speed=1, quiet=0.2))
    fake.expect("+8613900000008", Callee(script=[Silence(30)], speed=1, quiet=0.2))
    twilio = client(fake)
    hang, transfer = place(fake, app, "+8613900000007"), place(fake, app, "+8613900000008")
    for sid in (hang, transfer):
        for _ in range(500):
            phone = fake.calls[sid].phone
            if phone is not None and phone.turns[0].played:
                break
            time.sleep(0.02)
    twilio.calls(hang).update(status="completed")
    twilio.calls(transfer).update(twiml="<Response><Dial><Number>+8613800138000</Number></Dial></Response>")
    ended = fake.wait(hang, 20), fake.wait(transfer, 20)
    assert [c.status for c in ended] == ["completed", "completed"]
    assert ended[0].transfers == [] and ended[1].transfers == ["+8613800138000"]
    for call in ended:
        assert call.phone is not None and call.phone.ended_by == "api"
        assert call.phone.sent[-1]["event"] == "stop"
    stops = [m for m in app.messages if m["event"] == "stop"]
    assert {m["stop"]["callSid"] for m in stops} == {hang, transfer}


def test_forged_or_failing_webhook_is_recorded(fake: FakeTwilio, app: App) -> None:
    fake.expect("+8613900000009", Callee(script=[HangUp()]))
    other = FakeTwilio(account_sid=fake.account_sid, callees=fake.callees)  # same account, another token
    with other:
        c = Client(other.account_sid, other.auth_token)
        c.api.base_url = other.base_url
        sid = c.calls.create(to="+8613900000009", from_="+861", url=app.base_url + "/twiml").sid
        call = other.wait(sid, 20)
    assert app.webhooks[-1][0] == "twiml" and app.webhooks[-1][2] is False
    assert call.webhooks[-1].status == 403 and call.phone is None
    assert any("TwiML fetch" in e for e in call.errors) and call.status == "completed"


# ---- the phone against a broken server ----------------------------------------------------------------------
def test_phone_records_protocol_mistakes(prompt: bytes) -> None:
    async def bad_stream(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()  # connected
        start = json.loads((await ws.receive()).data)
        sid = start["streamSid"]
        await ws.send_json({"event": "media", "streamSid": "MZ" + "0" * 32, "media": {"payload": "AAAA"}})
        await ws.send_json({"event": "play", "streamSid": sid})
        await ws.send_json({"event": "media", "streamSid": sid, "media": {}})
        await ws.send_json({"event": "mark", "streamSid": sid, "mark": {}})
        await ws.send_str("not json")
        await ws.send_json({"event": "media", "streamSid": sid,
                            "media": {"payload": base64.b64encode(prompt[:1600]).decode()}})
        await asyncio.sleep(0.5)
        await ws.close()
        return ws

    web_app = web.Application()
    web_app.router.add_get("/stream", bad_stream)
    with serve(web_app) as url:
        phone = asyncio.run(Phone([Say("네")], speed=4, quiet=0.1).run(
            url.replace("http", "ws") + "/stream", account_sid=new_sid("AC"), call_sid=new_sid("CA")))
    assert phone.ended_by == "server"
    assert len(phone.errors) == 5
    assert any("not ours" in e for e in phone.errors) and any("'play'" in e for e in phone.errors)
    assert bytes(phone.turns[0].audio) == prompt[:1600]


def test_phone_measures_gaps_inside_a_prompt(prompt: bytes) -> None:
    async def stuttering(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()
        sid = json.loads((await ws.receive()).data)["streamSid"]
        for piece in (prompt[:1600], prompt[1600:3200]):  # 0.2 s, a 0.6 s pause, 0.2 s, then the mark
            await ws.send_json({"event": "media", "streamSid": sid,
                                "media": {"payload": base64.b64encode(piece).decode()}})
            await asyncio.sleep(0.6)
        await ws.send_json({"event": "mark", "streamSid": sid, "mark": {"name": "end"}})
        await asyncio.sleep(1.0)  # a pause after the mark is not a gap
        await ws.send_json({"event": "media", "streamSid": sid,
                            "media": {"payload": base64.b64encode(prompt[:800]).decode()}})
        async for msg in ws:
            if json.loads(msg.data)["event"] == "stop":
                break
        return ws

    web_app = web.Application()
    web_app.router.add_get("/stream", stuttering)
    with serve(web_app) as url:
        phone = asyncio.run(Phone([HangUp()], quiet=1.5, marks=True).run(
            url.replace("http", "ws") + "/stream", account_sid=new_sid("AC"), call_sid=new_sid("CA")))
    assert phone.errors == [] and phone.ended_by == "caller"
    assert len(phone.gaps) == 1 and 0.2 < phone.gaps[0] < 0.6
    assert len(phone.mark_echoes) == 1


def test_phone_reports_a_refused_connection() -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=403)

    web_app = web.Application()
    web_app.router.add_get("/stream", refuse)
    with serve(web_app) as url:
        phone = asyncio.run(Phone([HangUp()]).run(url.replace("http", "ws") + "/stream",
                                                  account_sid=new_sid("AC"), call_sid=new_sid("CA")))
    assert phone.ended_by == "error" and phone.connect_error and "403" in phone.connect_error


# ---- the resident's voice -----------------------------------------------------------------------------------
def test_speech_is_cached_telephone_audio(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDREACH_SPEECH_CACHE", str(tmp_path))
    audio = speak("아니요", "ko")
    assert len(list(tmp_path.iterdir())) == 1 and speak("아니요", "ko") == audio
    assert audio.startswith(silence(0.05)) and audio.endswith(silence(0.05))
    pcm = ulaw_to_pcm16(audio)
    assert len(pcm) == 2 * len(audio) and max(abs(int.from_bytes(pcm[i:i + 2], "little", signed=True))
                                              for i in range(0, len(pcm), 2)) > 3000
    assert 0.4 < len(audio) / 8000 < 3.0
    with pytest.raises(SpeechError):
        speak("hello", "xx")
    with pytest.raises(SpeechError):
        speak("  ", "ko")


def test_korean_model_hears_espeak_answers() -> None:
    grammar = ["네", "아니요", "모르겠어요", "상담원"]
    assert transcribe(speak("네", "ko"), grammar) == "네"
    assert transcribe(speak("아니요", "ko"), grammar) == "아니요"
    assert transcribe(silence(1.0), grammar) == ""


def test_closest_text_tells_long_prompts_apart() -> None:
    prompts = {
        "contact": "최근 십사 일 동안 확진자나 의심 환자와 접촉한 적이 있습니까? 네, 아니요, 또는 모르겠어요로 대답해 주세요.",
        "place": "어디에 다녀오셨습니까? 도시 이름을 말씀해 주세요.",
        "bye": "안녕히 계세요. 건강하세요.",
    }
    for key, text in prompts.items():
        assert closest_text(speak(text, "ko", rate=170), prompts)[0] == key  # another speaking rate than the refs
    with pytest.raises(ValueError):
        closest_text(silence(0.1), {})
