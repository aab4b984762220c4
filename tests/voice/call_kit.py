"""Small stand-ins for the call session's unit tests (B): a scripted dialogue, a listener that "hears" a
script, a speaker with a cache, a recording telephony port, and a minimal Media Streams phone.

These replace our OWN ports (dialogue, recogniser, synthesiser), never Twilio's wire: the phone below speaks the
documented Media Streams JSON over a real websocket, and signatures are computed here with HMAC-SHA1 directly.
End-to-end calls with real Vosk, pyttsx3, Rasa and the fake Twilio are in test_call_e2e.py (C).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from campaigns.expect import Expect
from gridreach.errors import SynthesisError
from gridreach_app.dialogue import Reply

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
SPEECH = b"\x10" * 160  # one 20 ms frame that the fake listener takes for speech
SILENCE = b"\xff" * 160  # μ-law silence


def twilio_signature(token: str, url: str, params: Mapping[str, str] | None = None) -> str:
    """X-Twilio-Signature as Twilio documents it: HMAC-SHA1 of the URL + sorted name/value pairs, base64."""
    data = url + "".join(f"{k}{v}" for k, v in sorted((params or {}).items()))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def expect(kind: str = "yes_no", question: str = "fever", language: str = "zh") -> dict[str, Any]:
    options: list[dict[str, str]] = []
    if kind in ("yes_no", "confirm"):
        options = [{"value": "yes", "label": "有", "keypad": "1"}, {"value": "no", "label": "没有", "keypad": "2"}]
    return {"expect": {"questionnaire": "daily_health", "question": question, "type": kind, "language": language,
                       "options": options, "min": None, "max": None, "unit": None, "prompt": f"{question}?"}}


def ask(text: str, kind: str = "yes_no", question: str = "q") -> list[Reply]:
    return [Reply(text=text), Reply(custom=expect(kind, question))]


@dataclass
class ScriptedDialogue:
    """Answers each turn with the next list of replies; records what it was sent. On the start trigger it opens a
    submission the way ``action_start_questionnaire`` does (so that a dropped call has one to finish)."""

    store: Any
    script: list[list[Reply]]
    questionnaire: tuple[str, int] = ("daily_health", 1)
    turns: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    fail_next: int = 0
    finish_with: str | None = None  # finish the submission so when the last scripted replies are given
    submission_id: int | None = None
    times: list[float] = field(default_factory=list)  # loop time of each turn

    async def handle(self, sender_id: str, text: str, channel: str,
                     metadata: dict[str, Any] | None = None) -> list[Reply]:
        if self.fail_next:
            self.fail_next -= 1
            from gridreach_app.dialogue import DialogueError

            raise DialogueError("core down")
        self.turns.append((sender_id, text, channel, dict(metadata or {})))
        self.times.append(asyncio.get_running_loop().time())
        if text.startswith("/start_questionnaire"):
            resident = int(sender_id.split("-", 1)[1])
            self.submission_id = self.store.start_submission(resident, *self.questionnaire, None, channel, "zh")
        await asyncio.sleep(0)
        replies = self.script.pop(0) if self.script else []
        if not self.script and self.finish_with and self.submission_id is not None:
            self.store.finish_submission(self.submission_id, self.finish_with, None)
        return replies


@dataclass
class Heard:
    text: str
    confidence: float = 0.9


class ScriptListener:
    """Speech is any non-silent frame; after ``endpoint`` silent frames following speech it returns the next
    scripted utterance. ``fail`` raises from feed() (a broken recogniser)."""

    def __init__(self, utterances: list[Heard], endpoint: int = 5, fail: bool = False) -> None:
        self.utterances, self.endpoint, self.fail = utterances, endpoint, fail
        self.speaking = False
        self._quiet = 0
        self.fed = 0

    def feed(self, ulaw8k: bytes) -> Heard | None:
        if self.fail:
            raise RuntimeError("recogniser broke")
        self.fed += len(ulaw8k)
        for i in range(0, len(ulaw8k), 160):
            frame = ulaw8k[i : i + 160]
            if frame.strip(b"\xff"):
                self.speaking, self._quiet = True, 0
            elif self.speaking:
                self._quiet += 1
                if self._quiet >= self.endpoint:
                    self.speaking, self._quiet = False, 0
                    return self.utterances.pop(0) if self.utterances else Heard("", 0.0)
        return None

    def finish(self) -> Heard:
        self.speaking = False
        return self.utterances.pop(0) if self.utterances else Heard("", 0.0)


@dataclass
class ListenerKit:
    """The listener factory handed to the session; remembers the ``Expect``s it was built for."""

    utterances: list[Heard] = field(default_factory=list)
    fail: bool = False
    built: list[Expect] = field(default_factory=list)

    def __call__(self, expect: Expect) -> ScriptListener:
        self.built.append(expect)
        return ScriptListener(self.utterances, fail=self.fail)


class FakeSpeaker:
    """100 ms of audio per text; texts in ``cache`` come from the cache, ``broken`` ones fail to synthesise."""

    def __init__(self, cache: set[str] | None = None, broken: set[str] | None = None,
                 long: set[str] | None = None) -> None:
        self.cache, self.broken, self.long = cache or set(), broken or set(), long or set()
        self.synthesised: list[str] = []
        self.kept: list[str] = []  # what a real speaker would have written to its cache on disk

    def _audio(self, text: str) -> bytes:
        return b"\x7f" * (8000 * 4 if text in self.long else 800)  # 4 s or 100 ms

    def cached(self, text: str, language: str) -> bytes | None:
        return self._audio(text) if text in self.cache else None

    async def say(self, text: str, language: str, *, keep: bool = True) -> bytes:
        if text in self.broken:
            raise SynthesisError("engine hung")
        self.synthesised.append(text)
        if keep:
            self.kept.append(text)
        return self._audio(text)


@dataclass
class RecordingTelephony:
    """Our telephony port, recording transfers and hang-ups (the REST wire is tested in test_twilio_api)."""

    transfers: list[tuple[str, str]] = field(default_factory=list)
    hangups: list[str] = field(default_factory=list)
    placed: list[tuple[str, str, str]] = field(default_factory=list)

    async def transfer(self, call_sid: str, phone: str) -> None:
        self.transfers.append((call_sid, phone))

    async def hangup(self, call_sid: str) -> None:
        self.hangups.append(call_sid)


class MiniPhone:
    """A Media Streams client: documented messages only; echoes marks at once; records what the bot sent."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, call_sid: str, stream_sid: str = "MZ" + "a" * 32,
                 echo_delay: float = 0.0) -> None:
        self.ws, self.call_sid, self.stream_sid = ws, call_sid, stream_sid
        self.echo_delay = echo_delay  # how long the bot's prompt takes to "play" before its mark is echoed
        self.echoed_at: list[float] = []
        self.received: list[dict[str, Any]] = []
        self.seq = 0
        self.chunk = 0
        self.closed = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())
        self.prompts_done = asyncio.Event()

    async def _send(self, message: dict[str, Any]) -> None:
        self.seq += 1
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionResetError):  # the bot hung up
            await self.ws.send_str(json.dumps({**message, "sequenceNumber": str(self.seq)}))

    async def start(self, attempt: int | str, encoding: str = "audio/x-mulaw") -> None:
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self._send({"event": "start", "streamSid": self.stream_sid, "start": {
            "accountSid": ACCOUNT_SID, "streamSid": self.stream_sid, "callSid": self.call_sid,
            "tracks": ["inbound"], "customParameters": {"attempt": str(attempt)},
            "mediaFormat": {"encoding": encoding, "sampleRate": 8000, "channels": 1}}})

    async def media(self, frame: bytes, count: int = 1) -> None:
        for _ in range(count):
            self.chunk += 1
            await self._send({"event": "media", "streamSid": self.stream_sid, "media": {
                "track": "inbound", "chunk": str(self.chunk), "timestamp": str(self.chunk * 20),
                "payload": base64.b64encode(frame).decode()}})
            await asyncio.sleep(0.002)

    async def say(self, frames: int = 10, trailing: int = 8) -> None:
        """Speak (non-silent frames) then go quiet."""
        await self.media(SPEECH, frames)
        await self.media(SILENCE, trailing)

    async def key(self, digit: str) -> None:
        await self._send({"event": "dtmf", "streamSid": self.stream_sid,
                          "dtmf": {"track": "inbound_track", "digit": digit}})

    async def stop(self) -> None:
        await self._send({"event": "stop", "streamSid": self.stream_sid,
                          "stop": {"accountSid": ACCOUNT_SID, "callSid": self.call_sid}})

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            self.received.append(data)
            if data.get("event") == "mark":
                self.prompts_done.set()
                if self.echo_delay:
                    await asyncio.sleep(self.echo_delay)
                self.echoed_at.append(asyncio.get_running_loop().time())
                await self._send({"event": "mark", "streamSid": self.stream_sid, "mark": data["mark"]})
        self.closed.set()

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("event") == kind]

    async def wait_marks(self, count: int, timeout: float = 10.0) -> None:
        """Until the bot has finished ``count`` prompts (sent ``count`` marks)."""
        async def enough() -> None:
            while len(self.events("mark")) < count:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(enough(), timeout)


# ---- a running server ---------------------------------------------------------------------------
PUBLIC = "https://voice.example.org"
STREAM_URL = "wss://voice.example.org/voice/stream"  # what Twilio opens (and signs) for our <Stream>


def voice_settings(**changes: Any) -> Any:
    from voice_caller.config import VoiceSettings

    values: dict[str, Any] = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "public_base_url": PUBLIC,
                              "from_number": "+8657100000000", "silence_timeout": 0.3, "digit_timeout": 0.3,
                              "max_silent_tries": 3, **changes}
    return VoiceSettings(**values)


def seed(store: Any, language: str = "zh") -> Any:
    """A grid with a worker and one resident; returns the resident's view."""
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "V01", "语音网格")
    store.add_grid_worker("V01", "王网格", "+8613800138000", "zh")
    resident = store.add_resident("V01", "1号楼101", "李明", "+8613900139000", 1950, language)
    return store.get_resident(resident)


@dataclass
class Running:
    server: Any
    base: str  # where the test reaches the server (loopback), unlike PUBLIC which Twilio signs
    http: aiohttp.ClientSession

    async def post(self, path_qs: str, form: dict[str, str], token: str = AUTH_TOKEN,
                   signed_url: str | None = None) -> aiohttp.ClientResponse:
        url = signed_url if signed_url is not None else PUBLIC + path_qs
        headers = {"X-Twilio-Signature": twilio_signature(token, url, form)} if token else {}
        return await self.http.post(self.base + path_qs, data=form, headers=headers)

    async def phone(self, call_sid: str, echo_delay: float = 0.0, token: str | None = AUTH_TOKEN,
                    **headers: str) -> MiniPhone:
        """A Media Stream as Twilio opens it: the upgrade signed over our public ``wss://`` URL (``token=None``:
        unsigned; extra ``headers`` override)."""
        signed = {"X-Twilio-Signature": twilio_signature(token, STREAM_URL)} if token else {}
        ws = await self.http.ws_connect(self.base.replace("http", "ws") + "/voice/stream",
                                        headers={**signed, **headers})
        return MiniPhone(ws, call_sid, echo_delay=echo_delay)

    def attempt(self, store: Any, resident_id: int, call_sid: str | None = "CA" + "1" * 32,
                outcome: str = "in-progress") -> int:
        attempt = store.record_contact_attempt(resident_id, None, "voice", "initiated",
                                               detail={"questionnaire": "daily_health"})
        if call_sid:
            store.set_contact_attempt_external_id(attempt, call_sid, outcome)
        return int(attempt)


def running(store: Any, dialogue: Any, *, speaker: Any = None, listeners: Any = None, telephony: Any = None,
            **changes: Any) -> Any:
    """``async with running(...) as r:`` a VoiceServer on 127.0.0.1 with these ports."""
    from contextlib import asynccontextmanager

    from voice_caller.server import VoiceServer

    @asynccontextmanager
    async def serve() -> Any:
        server = VoiceServer(voice_settings(**changes), store, dialogue=dialogue,
                             speaker=speaker or FakeSpeaker(), listeners=listeners or ListenerKit(),
                             telephony=telephony or RecordingTelephony())
        port = await server.start("127.0.0.1", 0)
        http = aiohttp.ClientSession()
        try:
            yield Running(server, f"http://127.0.0.1:{port}", http)
        finally:
            await http.close()
            await server.stop()

    return serve()
