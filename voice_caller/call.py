"""One phone call: greet, run the questionnaire through the dialogue, listen, speak, transfer, hang up.

``CallSession.run()`` drives the call; the websocket reader hands it Twilio's events with ``deliver()``. Each turn
goes to the dialogue as ``resident-<id>`` on channel ``voice``, ``message_id = "<CallSid>:<turn>"``, with ``keypad`` /
``asr_confidence`` / ``no_input`` metadata. The last ``{"expect": …}`` reply (an ``Expect``) sets grammar and keypad.

Outcomes: speech or keys → an answer turn; no speech for ``silence_timeout`` after the prompt → a ``no_input`` turn
(reprompt, then the question is left unanswered); ``max_silent_tries`` silent turns in a row → hang up. A failed
recognition or synthesis counts as nothing heard / said. Speech or a key during a prompt stops it (``clear``). A
``{"handoff": …}`` reply → transfer to the grid worker. No ``expect`` after a batch of replies → goodbye, hang up.
A ``stop`` or a dropped websocket mid-questionnaire → the submission is ``partial``. Audio waiting for the
recogniser is bounded (``MAX_BACKLOG``, drops counted in ``details["audio_dropped_ms"]``); store calls run in
worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from campaigns.expect import Expect
from campaigns.phrases import phrase
from campaigns.triggers import start_message
from gridreach.dialogue import Dialogue, Reply
from gridreach.errors import GridReachError
from gridreach.identity import resident_sender_id
from gridreach.store import Store
from voice_caller.config import VoiceSettings
from voice_caller.keypad import KeypadCollector
from voice_caller.media_stream import Dtmf, Event, Mark, Media, Stop
from voice_caller.playback import Playback, StreamClosed
from voice_caller.ports import (
    CallContext,
    CallResult,
    HeardLike,
    ListenerFactory,
    ListenerLike,
    SpeakerLike,
    Telephony,
    split_replies,
)

__all__ = ["CallContext", "CallResult", "CallSession", "ListenerFactory", "Telephony", "speech_listeners"]

log = logging.getLogger(__name__)
MAX_UTTERANCE = 12.0  # seconds of speech before the recogniser is made to decide
MAX_BACKLOG = 8000 * 10  # bytes of 8 kHz μ-law (10 s) waiting for a recogniser that falls behind


@dataclass(frozen=True)
class _Answer:
    text: str
    metadata: dict[str, Any]


class _HungUp(Exception):
    pass


class CallSession:
    """One call; ``run()`` once, ``deliver()`` every event after ``start``, ``hangup_detected()`` at the end."""

    def __init__(
        self,
        ctx: CallContext,
        *,
        settings: VoiceSettings,
        store: Store,
        dialogue: Dialogue,
        speaker: SpeakerLike,
        listeners: ListenerFactory,
        telephony: Telephony,
        send: Callable[[str], Awaitable[None]],
    ) -> None:
        self.ctx, self.settings, self.store = ctx, settings, store
        self.dialogue, self.speaker, self.listeners, self.telephony = dialogue, speaker, listeners, telephony
        self.playback = Playback(send, ctx.stream_sid)
        self.result = CallResult()
        self.language = ctx.resident.language
        self._gone = asyncio.Event()
        self._audio = bytearray()
        self._audio_ready = asyncio.Event()
        self._listener: ListenerLike | None = None
        self._keys: KeypadCollector | None = None
        self._answer: asyncio.Future[_Answer] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._speech = False
        self._started_questionnaire = False
        self._tasks: set[asyncio.Future[Any]] = set()
        self._writes: set[asyncio.Future[Any]] = set()  # store writes in flight, awaited (never cancelled) at the end
        self._asr = asyncio.Lock()  # a listener is used by one thread at a time (feed, finish)

    # ---- events from the websocket -----------------------------------------------------
    def deliver(self, event: Event) -> None:
        if isinstance(event, Media):
            if self._listener is not None and event.track in ("inbound", "inbound_track"):
                self._audio += event.payload
                excess = len(self._audio) - MAX_BACKLOG
                if excess > 0:  # the recogniser is behind: keep the latest 10 s
                    del self._audio[:excess]
                    dropped = self.result.details.get("audio_dropped_ms", 0) + excess // 8
                    self.result.details["audio_dropped_ms"] = dropped
                self._audio_ready.set()
        elif isinstance(event, Mark):
            self.playback.on_mark(event.name)
        elif isinstance(event, Dtmf):
            self._spawn(self._on_key(event.digit))
        elif isinstance(event, Stop):
            self.hangup_detected()

    def _spawn(self, job: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def hangup_detected(self) -> None:
        """The caller hung up (``stop``) or the websocket closed."""
        self._gone.set()
        self._audio_ready.set()

    # ---- the call ----------------------------------------------------------------------
    async def run(self) -> CallResult:
        listen = asyncio.ensure_future(self._listen_loop())
        try:
            worker = await asyncio.to_thread(self.store.grid_worker_for, self.ctx.resident.grid_code)
            greeting = phrase("voice_greeting", self.language, community=self.ctx.resident.community_name,
                              grid_worker=worker.name if worker else "")
            # the questionnaire starts while the greeting plays (the first question is ready when it ends)
            self._started_questionnaire = True
            first = asyncio.ensure_future(self._turn(start_message(self.ctx.questionnaire_id, self.ctx.campaign_id),
                                                     {}))
            try:
                await self._speak([greeting])
            finally:
                replies = await asyncio.shield(first)  # a turn is never cut off half-way
            silent = 0
            while True:
                texts, expect, handoff, rest = split_replies(replies)
                if expect is not None:
                    self.language = expect.language or self.language
                if handoff is not None and await self._transfer(texts, handoff):
                    self.result.result = "transferred"
                    return self.result
                if handoff is not None:  # the transfer failed: go on with the questionnaire
                    texts, expect, _, _ = split_replies(rest)
                if expect is None:
                    await self._speak([*texts, phrase("goodbye", self.language)])
                    await asyncio.to_thread(self._close_submission)
                    await self._hangup()
                    return self.result
                answer = await self._ask(texts, expect)
                silent = silent + 1 if answer.metadata.get("no_input") else 0
                if silent >= self.settings.max_silent_tries:  # nobody is listening any more
                    self.result.result = "gone"
                    await self._hangup()
                    return self.result
                replies = await self._turn(answer.text, answer.metadata)
        except (_HungUp, StreamClosed):
            return self.result
        finally:
            listen.cancel()
            for task in list(self._tasks):
                task.cancel()
            self._cancel_timer()
            for failed in await asyncio.gather(*self._writes, return_exceptions=True):
                if isinstance(failed, Exception):
                    log.error("call %s: a record was not written (%s)", self.ctx.call_sid, type(failed).__name__)
            await asyncio.to_thread(self._finish)  # runs to its end even if this task is cancelled meanwhile

    async def _turn(self, text: str, metadata: dict[str, Any]) -> list[Reply]:
        """One message to the dialogue (retried once if the core failed: the message id makes it safe)."""
        if self._gone.is_set():
            raise _HungUp
        meta = {**metadata, "channel": "voice", "message_id": f"{self.ctx.call_sid}:{self.result.turns}"}
        self.result.turns += 1
        sender = resident_sender_id(self.ctx.resident.id)
        for attempt in (1, 2):
            try:
                return list(await self.dialogue.handle(sender, text, "voice", meta))
            except GridReachError as exc:
                log.warning("call %s: dialogue turn failed (%s), try %d", self.ctx.call_sid, type(exc).__name__, attempt)
                await asyncio.sleep(0.5)
        return []  # the core is down: the run ends (its submission is finished as partial)

    async def _ask(self, texts: list[str], expect: Expect) -> _Answer:
        loop = asyncio.get_running_loop()
        self._speech = False
        self._keys = KeypadCollector(expect)  # its Expect: whether one key answers
        self._answer = loop.create_future()
        try:
            self._listener = await loop.run_in_executor(None, self.listeners, expect)
        except Exception as exc:  # a listener that cannot be built: keys still work, speech counts as silence
            log.warning("call %s: no recogniser for this question (%s)", self.ctx.call_sid, type(exc).__name__)
            self._listener = None
        self._audio.clear()
        played = await self._speak(texts)
        if played and not self._answer.done() and not self._speech:
            self._arm(self.settings.silence_timeout, self._silence)
        try:
            return await self._wait(self._answer)
        finally:
            self._cancel_timer()
            self._listener, self._keys, self._answer = None, None, None
            self._audio.clear()

    async def _wait(self, future: asyncio.Future[_Answer]) -> _Answer:
        gone: asyncio.Future[Any] = asyncio.ensure_future(self._gone.wait())
        waited: set[asyncio.Future[Any]] = {future, gone}
        try:
            await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not future.done():
            raise _HungUp
        return future.result()

    def _resolve(self, text: str, metadata: dict[str, Any]) -> None:
        if self._answer is not None and not self._answer.done():
            self._cancel_timer()
            self._answer.set_result(_Answer(text, metadata))

    # ---- listening ---------------------------------------------------------------------
    async def _listen_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._gone.is_set():
            await self._audio_ready.wait()
            self._audio_ready.clear()
            listener, chunk = self._listener, bytes(self._audio)
            self._audio.clear()
            if listener is None or not chunk:
                continue
            try:
                async with self._asr:
                    heard = await loop.run_in_executor(None, listener.feed, chunk)
                    speaking = bool(listener.speaking)
            except Exception as exc:  # a failed recognition is a turn with nothing heard
                log.warning("call %s: recognition failed (%s)", self.ctx.call_sid, type(exc).__name__)
                self._resolve("", {"no_input": True})
                continue
            if listener is not self._listener:
                continue
            if speaking and not self._speech:
                try:
                    await self._speech_started(listener)
                except StreamClosed:
                    self.hangup_detected()
                    return
            if heard is not None:
                self._heard(heard)

    async def _speech_started(self, listener: ListenerLike) -> None:
        self._speech = True
        self._cancel_timer()
        if await self.playback.interrupt():
            self.result.barge_ins += 1
        self._arm(MAX_UTTERANCE, lambda: self._spawn(self._force_result(listener)))

    async def _force_result(self, listener: ListenerLike) -> None:
        try:
            async with self._asr:
                heard = await asyncio.get_running_loop().run_in_executor(None, listener.finish)
        except Exception as exc:
            log.warning("call %s: recognition failed (%s)", self.ctx.call_sid, type(exc).__name__)
            self._resolve("", {"no_input": True})
            return
        if listener is self._listener:
            self._heard(heard)

    def _heard(self, heard: HeardLike) -> None:
        text = (heard.text or "").strip()
        if not text:  # speech nobody could read: no answer this turn
            self._resolve("", {"no_input": True})
        else:
            self._resolve(text, {"asr_confidence": round(float(heard.confidence), 3)})

    def _silence(self) -> None:
        if not self._speech:
            self._resolve("", {"no_input": True})

    async def _on_key(self, digit: str) -> None:
        keys = self._keys
        if keys is None:
            return
        try:
            if await self.playback.interrupt():
                self.result.barge_ins += 1
        except StreamClosed:
            self.hangup_detected()
            return
        answer = keys.press(digit)
        if answer is not None:
            self._resolve(answer, {"keypad": True})
        elif keys.pending:
            self._arm(self.settings.digit_timeout, self._keys_timed_out)

    def _keys_timed_out(self) -> None:
        answer = self._keys.flush() if self._keys is not None else None
        if answer is not None:
            self._resolve(answer, {"keypad": True})

    def _arm(self, delay: float, callback: Callable[[], Any]) -> None:
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(delay, callback)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ---- speaking ----------------------------------------------------------------------
    async def _audio_for(self, text: str, language: str) -> bytes:
        audio = self.speaker.cached(text, language)
        if audio is not None:
            return audio
        self.result.live_syntheses += 1
        try:  # not prepared ahead: it may repeat an answer ("…37.5度，对吗？"), so it is not kept on disk
            return await self.speaker.say(text, language, keep=False)
        except GridReachError as exc:  # synthesis failed: the resident hears nothing of this text
            log.warning("call %s: synthesis failed (%s)", self.ctx.call_sid, type(exc).__name__)
            return b""

    async def _speak(self, texts: list[str]) -> bool:
        """Say ``texts`` in a row; True when all of it played, False when the resident interrupted."""
        if self._gone.is_set():
            raise _HungUp
        texts = [t for t in texts if t and t.strip()]
        pending = [asyncio.ensure_future(self._audio_for(t, self.language)) for t in texts]
        self.playback.begin()
        try:
            for job in pending:
                audio = await job
                if not await self.playback.feed(audio) or self._gone.is_set():
                    break
            played = await self.playback.finish()
        finally:
            for job in pending:
                job.cancel()
        if self._gone.is_set():
            raise _HungUp
        return played

    # ---- the end -----------------------------------------------------------------------
    async def _transfer(self, texts: list[str], handoff: Mapping[str, Any]) -> bool:
        phone, name = str(handoff.get("phone") or ""), str(handoff.get("name") or "")
        await self._speak([*texts, phrase("voice_transfer", self.language, grid_worker=name)])
        try:
            await self.telephony.transfer(self.ctx.call_sid, phone)
        except GridReachError as exc:
            log.warning("call %s: transfer failed (%s)", self.ctx.call_sid, exc)
            # recorded in a worker thread while the questionnaire goes on at once (a key pressed now counts)
            self._writes.add(asyncio.ensure_future(asyncio.to_thread(
                self.store.audit, "voice", "call.transfer_failed", "contact_attempt", self.ctx.attempt_id)))
            return False
        await asyncio.to_thread(self.store.audit, "voice", "call.transfer", "contact_attempt", self.ctx.attempt_id,
                                {"resident": self.ctx.resident.id})
        return True

    async def _hangup(self) -> None:
        try:
            await self.telephony.hangup(self.ctx.call_sid)
        except GridReachError as exc:
            log.warning("call %s: hangup failed (%s)", self.ctx.call_sid, exc)

    def _close_submission(self) -> None:
        """(In a worker thread.) The run ended normally: remember its submission and how it ended."""
        sub = self.store.latest_submission(self.ctx.resident.id, self.ctx.questionnaire_id)
        if sub is not None and self._started_questionnaire:
            self.result.submission_id = sub.id
            self.result.result = sub.status if sub.status != "in_progress" else "partial"

    def _finish(self) -> None:
        """(In a worker thread.) An open submission of this call becomes partial; the attempt gets the result."""
        try:
            sub = self.store.latest_submission(self.ctx.resident.id, self.ctx.questionnaire_id)
            if sub is not None and self._started_questionnaire:
                self.result.submission_id = sub.id
                if sub.status == "in_progress":
                    self.store.finish_submission(sub.id, "partial", None)
                    if self.result.result not in ("transferred", "gone"):
                        self.result.result = "partial"
            detail = {"call_result": self.result.result, "turns": self.result.turns,
                      "submission_id": self.result.submission_id, "barge_ins": self.result.barge_ins}
            self.store.advance_contact_attempt(self.ctx.attempt_id, "in-progress", after=(), ended=False, detail=detail)
        except GridReachError as exc:
            log.error("call %s: could not record the end of the call (%s)", self.ctx.call_sid, exc)


def speech_listeners(models: Any) -> ListenerFactory:
    """The production listener factory: a Vosk ``Listener`` with the grammar of the question's ``Expect``."""
    from voice_caller.asr import Listener
    from voice_caller.grammar import grammar_for

    def build(expect: Expect) -> ListenerLike:
        language = expect.language or "zh"
        return Listener(models, language, grammar_for(expect) if models.supports_grammar(language) else None)

    return build
