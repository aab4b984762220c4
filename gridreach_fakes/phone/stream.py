"""The phone itself: Twilio's side of a bidirectional Media Stream websocket, playing a resident's ``Script``
(see the package docstring for the protocol)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
from collections import deque
from typing import Any

from websockets.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from gridreach_fakes.phone.script import BotTurn, HangUp, Keys, Say, Script, Silence, Sound, Step, StepResult
from gridreach_fakes.speech import FRAME_BYTES, ULAW_SILENCE, speak

__all__ = ["FRAME_SECONDS", "Phone"]

FRAME_SECONDS = 0.02


class Phone:
    """Plays a resident's ``script`` over a Media Streams websocket and records what the bot says and does."""

    def __init__(self, script: Script, *, speed: float = 1.0, quiet: float = 0.8, turn_timeout: float = 60.0,
                 linger: float = 30.0, marks: bool = False) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.script = list(script)
        self.speed = speed
        self.quiet = quiet
        self.turn_timeout = turn_timeout
        self.linger = linger
        self.marks = marks
        self.mark_echoes: list[float] = []  # when each mark was echoed (its prompt had played)
        self.stream_sid = "MZ" + secrets.token_hex(16)
        self.account_sid = ""
        self.call_sid = ""
        self.sent: list[dict[str, Any]] = []  # every non-media message we sent
        self.received: list[dict[str, Any]] = []  # every non-media message from the server
        self.errors: list[str] = []  # protocol mistakes of the server
        self.turns: list[BotTurn] = [BotTurn(0)]
        self.steps: list[StepResult] = []
        self.media_received = 0
        self.frames_sent = 0
        self.late_ticks = 0  # ticks this phone itself sent late (> one frame): the machine was overloaded
        self.max_tick_lag = 0.0
        self.ended_by: str | None = None  # "script", "server", "caller", "api", "error"
        self.connect_error: str | None = None
        self._sequence = 0
        self._outgoing: bytearray = bytearray()
        self._playback: deque[tuple[str, Any, BotTurn]] = deque()
        self._last_bot_activity = 0.0
        self._ws: Any = None
        self._stopped = asyncio.Event()
        self._starved_since: float | None = None  # the bot's audio ran out before its mark: a gap in the prompt
        self._played_since_mark = 0  # bytes of bot audio played since the last mark was reached

    # ---- public -------------------------------------------------------------------------------------------
    @property
    def bot_audio(self) -> bytes:
        return b"".join(bytes(t.audio) for t in self.turns)

    @property
    def latencies(self) -> list[float]:
        return [r.latency for r in self.steps if r.latency is not None]

    @property
    def gaps(self) -> list[float]:
        """Every stutter: how long the playback starved in the middle of a bot prompt (wall seconds)."""
        return [g for t in self.turns for g in t.gaps]

    def clears(self) -> int:
        return sum(1 for m in self.received if m.get("event") == "clear")

    async def run(self, url: str, *, account_sid: str, call_sid: str,
                  custom_parameters: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Phone:
        """Connect to ``url``, play the script, and return when the call has ended either way."""
        self.account_sid, self.call_sid = account_sid, call_sid
        try:
            self._ws = await connect(url, extra_headers=headers or {}, max_size=2**22, open_timeout=15)
        except (OSError, InvalidHandshake, InvalidURI, asyncio.TimeoutError) as exc:
            self.connect_error = f"{type(exc).__name__}: {exc}"
            self.ended_by = "error"
            return self
        try:
            await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"}, numbered=False)
            await self._send({
                "event": "start",
                "start": {
                    "streamSid": self.stream_sid, "accountSid": account_sid, "callSid": call_sid,
                    "tracks": ["inbound"], "customParameters": dict(custom_parameters or {}),
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
            })
            self._last_bot_activity = time.monotonic()
            tasks = [asyncio.create_task(c) for c in (self._ticker(), self._receiver(), self._resident())]
            await self._stopped.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.ended_by != "server":
                await self._send({"event": "stop", "stop": {"accountSid": account_sid, "callSid": call_sid}})
        except ConnectionClosed:
            self.ended_by = self.ended_by or "server"
        finally:
            await self._ws.close()
        return self

    def hang_up(self, reason: str = "api") -> None:
        """End the stream from Twilio's side (REST hang-up or redirect): ``stop`` is sent, the socket closed."""
        if not self._stopped.is_set():
            self.ended_by = reason
            self._stopped.set()

    # ---- the wire ----------------------------------------------------------------------------------------
    async def _send(self, message: dict[str, Any], numbered: bool = True) -> None:
        if numbered:
            self._sequence += 1
            message = {"event": message["event"], "sequenceNumber": str(self._sequence),
                       **{k: v for k, v in message.items() if k != "event"}, "streamSid": self.stream_sid}
        if message["event"] != "media":
            self.sent.append(message)
        await self._ws.send(json.dumps(message))

    async def _ticker(self) -> None:
        """Every 20 ms of audio time: play 20 ms of the bot's queued audio, send 20 ms of the resident's."""
        interval = FRAME_SECONDS / self.speed
        start = time.monotonic()
        tick = 0
        while True:
            due = start + tick * interval
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                lag = -delay
                self.max_tick_lag = max(self.max_tick_lag, lag)
                if lag > interval:
                    self.late_ticks += 1
            self._play_frame()
            chunk = bytes(self._outgoing[:FRAME_BYTES])
            del self._outgoing[:FRAME_BYTES]
            chunk += ULAW_SILENCE * (FRAME_BYTES - len(chunk))
            tick += 1
            self.frames_sent += 1
            await self._send({"event": "media", "media": {
                "track": "inbound", "chunk": str(tick), "timestamp": str((tick - 1) * 20),
                "payload": base64.b64encode(chunk).decode("ascii")}})

    def _play_frame(self) -> None:
        budget = FRAME_BYTES
        while self._playback and (budget > 0 or self._playback[0][0] == "mark"):
            kind, value, turn = self._playback[0]
            if kind == "mark":
                self._playback.popleft()
                self._played_since_mark = 0
                asyncio.get_running_loop().create_task(self._echo_mark(value))
                continue
            piece = value[:budget]
            turn.played += piece
            self._played_since_mark += len(piece)
            if len(piece) == len(value) and len(self._playback) == 1:
                # the last queued audio and no mark after it yet: starved once this piece has played
                self._starved_since = time.monotonic() + len(piece) / 8000 / self.speed
            budget -= len(piece)
            if len(piece) == len(value):
                self._playback.popleft()
            else:
                self._playback[0] = ("audio", value[len(piece):], turn)
            self._last_bot_activity = time.monotonic()

    async def _echo_mark(self, name: str) -> None:
        self.mark_echoes.append(time.monotonic())
        with contextlib.suppress(ConnectionClosed):
            await self._send({"event": "mark", "mark": {"name": name}})

    async def _receiver(self) -> None:
        try:
            async for raw in self._ws:
                self._handle(raw)
        except ConnectionClosed:
            pass
        if not self._stopped.is_set():
            self.ended_by = "server"
            self._stopped.set()

    def _handle(self, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            self.errors.append("binary websocket frame (Twilio expects JSON text)")
            return
        try:
            message = json.loads(raw)
        except ValueError:
            self.errors.append("a websocket message that is not JSON")
            return
        if not isinstance(message, dict):
            self.errors.append("a JSON message that is not an object")
            return
        event = message.get("event")
        if event != "media":
            self.received.append(message)
        if message.get("streamSid") != self.stream_sid:
            self.errors.append(f"{event!r} message with streamSid {message.get('streamSid')!r}, not ours")
            return
        turn = self.turns[-1]
        if event == "media":
            payload = (message.get("media") or {}).get("payload")
            try:
                audio = base64.b64decode(payload, validate=True) if isinstance(payload, str) else None
            except ValueError:
                audio = None
            if not audio:
                self.errors.append("media message without a base64 payload")
                return
            now = time.monotonic()
            self.media_received += 1
            if self._starved_since is not None:
                if now > self._starved_since:
                    turn.gaps.append(now - self._starved_since)
                self._starved_since = None
            turn.audio += audio
            turn.first_frame_at = turn.first_frame_at or now
            turn.last_frame_at = now
            self._last_bot_activity = now
            for result in self.steps:
                if result.ended_at is not None and result.bot_reply_at is None:
                    result.bot_reply_at = now
            self._playback.append(("audio", audio, turn))
        elif event == "mark":
            name = (message.get("mark") or {}).get("name")
            if not isinstance(name, str) or not name:
                self.errors.append("mark message without mark.name")
                return
            turn.marks.append(name)
            self._starved_since = None
            self._playback.append(("mark", name, turn))
        elif event == "clear":
            self._starved_since = None
            for cut in {id(t): t for _, _, t in self._playback}.values() or [turn]:
                cut.cleared += 1
            pending = [value for kind, value, _ in self._playback if kind == "mark"]
            self._playback.clear()
            for name in pending:
                asyncio.get_running_loop().create_task(self._echo_mark(name))
        else:
            self.errors.append(f"unknown event {event!r} (Twilio accepts media, mark, clear)")

    # ---- the resident -------------------------------------------------------------------------------------
    def _echoes_since(self, since: float) -> int:
        return sum(1 for t in self.mark_echoes if t >= since) if self.marks else 0

    def _bot_done(self, since: float, prompts: int) -> bool:
        turn = self.turns[-1]
        spoke = turn.first_frame_at is not None and turn.first_frame_at >= since
        idle = time.monotonic() - self._last_bot_activity >= self.quiet
        if self.marks and self._echoes_since(since) < prompts:
            return False
        return spoke and not self._playback and idle

    async def _wait_for_bot(self, since: float, barge_after: float | None, prompts: int = 1) -> bool:
        deadline = time.monotonic() + self.turn_timeout
        while time.monotonic() < deadline:
            turn = self.turns[-1]
            if barge_after is not None:
                # speak into the prompts-th prompt: the ones before it have played (their marks came back)
                if (turn.first_frame_at is not None and self._echoes_since(since) >= prompts - 1
                        and self._played_since_mark >= barge_after * 8000):
                    return True
            elif self._bot_done(since, prompts):
                return True
            await asyncio.sleep(0.01)
        return False

    async def _resident(self) -> None:
        try:
            await self._play_script()
        except (ConnectionClosed, asyncio.CancelledError):
            raise
        except Exception as exc:  # a broken step (e.g. no espeak-ng) ends the call visibly, not silently
            self.errors.append(f"the phone's script failed: {type(exc).__name__}: {exc}")
            self.ended_by = "error"
            self._stopped.set()

    async def _play_script(self) -> None:
        since = 0.0
        for step in self.script:
            barge = getattr(step, "after", None) if getattr(step, "barge_in", False) else None
            if isinstance(step, HangUp) and step.now:
                self.steps.append(StepResult(step, time.monotonic()))
                self.ended_by = "caller"
                self._stopped.set()
                return
            waited = await self._wait_for_bot(since, barge, step.prompts)
            result = StepResult(step, time.monotonic(), waited_out=not waited)
            self.steps.append(result)
            if barge is None:
                self.turns.append(BotTurn(len(self.turns)))
            since = result.started_at
            if isinstance(step, HangUp):
                self.ended_by = "caller"
                self._stopped.set()
                return
            ended_at = await self._perform(step)
            result.ended_at = ended_at
            if barge is not None:
                self.turns.append(BotTurn(len(self.turns)))
        # the script is over: listen until the bot ends the call, then hang up
        await self._wait_for_bot(since, None, 1)
        await asyncio.sleep(min(self.linger, self.quiet))
        self.ended_by = "script"
        self._stopped.set()

    async def _perform(self, step: Step) -> float | None:
        """Do one step; return when its answer ended (the last audio frame or key sent), None for silence."""
        interval = FRAME_SECONDS / self.speed
        if isinstance(step, Say | Sound):
            audio = speak(step.text, step.lang) if isinstance(step, Say) else step.ulaw
            self._outgoing += audio
            while self._outgoing:
                await asyncio.sleep(interval / 2)
            return time.monotonic()
        if isinstance(step, Keys):
            for i, digit in enumerate(step.digits):
                if i:
                    await asyncio.sleep(step.gap / self.speed)
                await self._send({"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": digit}})
            return time.monotonic()
        if isinstance(step, Silence):
            await asyncio.sleep(step.seconds / self.speed)
        return None
