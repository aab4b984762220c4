"""The webhooks Twilio calls: TwiML for an answered call, status callbacks, and the Media Streams websocket.

``POST /voice/twiml?attempt=N`` (signed) answers ``<Connect><Stream>`` to ``/voice/stream`` with the attempt as a
``<Parameter>``; a call answered by a machine (``AnsweredBy`` from answering-machine detection) is hung up instead.
``POST /voice/status?attempt=N`` (signed) records ``CallStatus`` on the contact attempt: initiated → ringing →
in-progress → completed | busy | no-answer | failed | canceled, never backwards, repeats change nothing;
``AnsweredBy`` goes to ``detail["answered_by"]``. A missing or forged signature gets 403 and changes nothing.
``GET /voice/stream`` is the bidirectional Media Stream: its ``start`` must name a live attempt of this CallSid,
else the socket is closed with nothing stored; then a ``CallSession`` runs the call.

Fail closed, before anything is read or parsed: a webhook without ``X-Twilio-Signature`` is 403 before its body is
read; a body over the route's cap (``BODY_LIMITS``: a status callback is a few hundred bytes) is 413 unread; a body
that is not a well-formed form (or a JSON body with ``bodySHA256``), or whose signature does not match, is 403.
The websocket upgrade must be signed over the ``wss://`` URL of our ``<Stream>`` (Twilio signs it like a request
with no fields) or it is refused with 403 before the upgrade; at most ``max_streams`` are open at once (503
beyond); a socket that sends no ``start`` within ``stream_start_timeout`` is closed; a message over
``max_frame_bytes`` or more than ``max_frames_per_second`` (2 s of burst) closes the socket with 1008 / 1009.
No store call runs on this event loop: each one goes to a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSCloseCode, WSMsgType, web
from multidict import MultiDict

from gridreach.dialogue import Dialogue
from gridreach.errors import ForgedRequest, GridReachError
from gridreach.store import Store
from gridreach.views import ContactAttemptView
from voice_caller.call import CallSession
from voice_caller.config import VoiceSettings
from voice_caller.media_stream import Connected, Malformed, Start, Stop, parse
from voice_caller.ports import CallContext, CallResult, ListenerFactory, SpeakerLike, Telephony
from voice_caller.signature import SIGNATURE_HEADER, SignatureChecker
from voice_caller.twilio_api import connect_stream_twiml, hangup_twiml

__all__ = ["BODY_LIMITS", "FINAL_OUTCOMES", "PROGRESS", "VoiceServer"]

log = logging.getLogger(__name__)
PROGRESS = ("initiated", "ringing", "in-progress")  # the order a call goes through before it ends
FINAL_OUTCOMES = ("completed", "busy", "no-answer", "failed", "canceled")
_STATUS = {"queued": "initiated", "initiated": "initiated", "ringing": "ringing", "in-progress": "in-progress"}
_MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")
_MAX_MALFORMED = 50
BODY_LIMITS = {"/voice/twiml": 16 * 1024, "/voice/status": 8 * 1024}  # bytes; Twilio sends < 2 KB
_MAX_FIELDS = 100
_KEEP_RESULTS = 256  # call results kept in memory (each is also in its contact attempt's detail)


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml")


class VoiceServer:
    """The aiohttp application and the calls it is running."""

    def __init__(
        self,
        settings: VoiceSettings,
        store: Store,
        *,
        dialogue: Dialogue,
        speaker: SpeakerLike,
        listeners: ListenerFactory,
        telephony: Telephony) -> None:
        self.settings, self.store = settings, store
        self.dialogue, self.speaker, self.listeners, self.telephony = dialogue, speaker, listeners, telephony
        self.checker = SignatureChecker(settings)
        self.sessions: dict[int, CallSession] = {}
        self.results: OrderedDict[int, CallResult] = OrderedDict()  # the latest calls' results, bounded
        self.streams_open = 0
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None

    # ---- URLs we give Twilio -----------------------------------------------------------------
    def twiml_url(self, attempt_id: int) -> str:
        return self.settings.public_url(f"/voice/twiml?attempt={int(attempt_id)}")

    def status_url(self, attempt_id: int) -> str:
        return self.settings.public_url(f"/voice/status?attempt={int(attempt_id)}")

    # ---- serving -----------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=max(BODY_LIMITS.values()))
        app.router.add_post("/voice/twiml", self.twiml)
        app.router.add_post("/voice/status", self.status)
        app.router.add_get("/voice/stream", self.stream)
        return app

    async def start(self, host: str | None = None, port: int | None = None) -> int:
        """Listen (port 0: any free port); returns the port."""
        # lingering_time=0: an unread (refused) body is never drained, the connection is closed instead
        self._runner = web.AppRunner(self.app(), access_log=None, lingering_time=0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host or self.settings.listen_host,
                           self.settings.listen_port if port is None else port)
        await site.start()
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_ended(self, attempt_id: int, timeout: float) -> ContactAttemptView | None:
        """Wait until the attempt has its final status and its call session (if any) is over."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._condition():
            while True:
                attempt = await asyncio.to_thread(self.store.get_contact_attempt, attempt_id)
                if attempt is None or (attempt.outcome in FINAL_OUTCOMES and attempt_id not in self.sessions):
                    return attempt
                left = deadline - loop.time()
                if left <= 0:
                    return attempt
                try:
                    await asyncio.wait_for(self._condition().wait(), left)
                except asyncio.TimeoutError:
                    return await asyncio.to_thread(self.store.get_contact_attempt, attempt_id)

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _notify(self) -> None:
        async with self._condition():
            self._condition().notify_all()

    # ---- signed webhooks ---------------------------------------------------------------------
    async def _signed_fields(self, request: web.Request) -> Mapping[str, Any] | None:
        """The request's fields if it is signed and well-formed, else None (403). Nothing is read unsigned, and
        never more than the route's cap (413)."""
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            log.warning("refused %s: no %s", request.path, SIGNATURE_HEADER)
            return None
        body = await _read_capped(request, BODY_LIMITS[request.path])
        url = self.checker.webhook_url(request.raw_path)
        try:
            if request.content_type == "application/json":
                if "bodySHA256=" not in request.raw_path:
                    raise ForgedRequest("a JSON webhook must carry bodySHA256")
                text = body.decode("utf-8")
                self.checker.check(url, text, signature)
                fields = json.loads(text)
                if not isinstance(fields, dict):
                    raise ValueError("the JSON body is not an object")
                return fields
            if request.content_type != "application/x-www-form-urlencoded":
                raise ValueError(f"unexpected content type {request.content_type!r}")
            form = _parse_form(body)
            self.checker.check(url, form, signature)
            return form
        except ForgedRequest as exc:
            log.warning("refused %s: %s", request.path, exc)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError too; the reason never quotes the body
            log.warning("refused %s: unreadable body (%s)", request.path, type(exc).__name__)
        return None

    async def _attempt(self, request: web.Request) -> ContactAttemptView | None:
        try:
            attempt_id = int(request.query.get("attempt", ""))
        except ValueError:
            return None
        return await asyncio.to_thread(self.store.get_contact_attempt, attempt_id)

    async def twiml(self, request: web.Request) -> web.Response:
        fields = await self._signed_fields(request)
        if fields is None:
            return _refused(403, "forbidden")
        attempt = await self._attempt(request)
        call_sid = str(fields.get("CallSid") or "")
        if attempt is None or attempt.channel != "voice" or not call_sid or _over(attempt):
            return _xml(hangup_twiml())  # nothing to run on this call
        try:
            await asyncio.to_thread(self.store.set_contact_attempt_external_id, attempt.id, call_sid)
        except GridReachError:  # another call's attempt
            return _xml(hangup_twiml())
        answered_by = str(fields.get("AnsweredBy") or "")
        detail = {"answered_by": answered_by} if answered_by else None
        if answered_by in _MACHINE:
            await asyncio.to_thread(self.store.advance_contact_attempt, attempt.id, "in-progress", after=PROGRESS[:2],
                                    ended=False, detail={**(detail or {}), "call_result": "machine"})
            return _xml(hangup_twiml())
        await asyncio.to_thread(self.store.advance_contact_attempt, attempt.id, "in-progress", after=PROGRESS[:2],
                                ended=False, detail=detail)
        return _xml(connect_stream_twiml(self.settings.stream_url, {"attempt": str(attempt.id)}))

    async def status(self, request: web.Request) -> web.Response:
        fields = await self._signed_fields(request)
        if fields is None:
            return _refused(403, "forbidden")
        attempt = await self._attempt(request)
        if attempt is None:
            return web.Response(status=404, text="unknown attempt")
        call_sid, call_status = str(fields.get("CallSid") or ""), str(fields.get("CallStatus") or "")
        if attempt.external_id not in (None, call_sid):
            return web.Response(status=409, text="another call's attempt")
        if call_status not in _STATUS and call_status not in FINAL_OUTCOMES:
            return web.Response(status=400, text="unknown CallStatus")
        detail: dict[str, Any] = {}
        if fields.get("AnsweredBy"):
            detail["answered_by"] = str(fields["AnsweredBy"])
        if str(fields.get("CallDuration") or "").isascii() and str(fields.get("CallDuration") or "").isdigit():
            detail["duration"] = int(str(fields["CallDuration"]))
        await asyncio.to_thread(self._record_status, attempt, call_sid, call_status, detail)
        await self._notify()
        return web.Response(status=204)

    def _record_status(self, attempt: ContactAttemptView, call_sid: str, call_status: str,
                       detail: dict[str, Any]) -> None:
        """(In a worker thread.) The status callback's effect on the attempt."""
        if attempt.external_id is None and call_sid:
            self.store.set_contact_attempt_external_id(attempt.id, call_sid)
        if call_status in FINAL_OUTCOMES:
            self.store.advance_contact_attempt(attempt.id, call_status, after=PROGRESS, ended=True, detail=detail)
        else:
            outcome = _STATUS[call_status]
            earlier = PROGRESS[: PROGRESS.index(outcome)]
            self.store.advance_contact_attempt(attempt.id, outcome, after=earlier, ended=False, detail=detail)

    # ---- the Media Stream --------------------------------------------------------------------
    async def stream(self, request: web.Request) -> web.StreamResponse:
        try:  # Twilio signs the upgrade request over our <Stream> URL: unsigned or forged is refused unanswered
            self.checker.check(self.checker.stream_url(request.query_string), {},
                               request.headers.get(SIGNATURE_HEADER))
        except ForgedRequest as exc:
            log.warning("refused a media stream: %s", exc)
            return _refused(403, "forbidden")
        if self.streams_open >= self.settings.max_streams:
            log.warning("refused a media stream: %d streams already open", self.streams_open)
            return web.Response(status=503, text="too many media streams", headers={"Retry-After": "5"})
        self.streams_open += 1
        try:
            return await self._run_stream(request)
        finally:
            self.streams_open -= 1

    async def _run_stream(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=self.settings.max_frame_bytes)
        await ws.prepare(request)
        loop = asyncio.get_running_loop()
        start_by = loop.time() + self.settings.stream_start_timeout
        budget = _Budget(self.settings.max_frames_per_second, loop.time())
        session: CallSession | None = None
        task: asyncio.Future[CallResult] | None = None
        malformed = 0
        try:
            while not ws.closed:
                try:
                    message = await ws.receive(timeout=None if session else max(0.0, start_by - loop.time()))
                except asyncio.TimeoutError:
                    log.warning("media stream: no start within %.1f s", self.settings.stream_start_timeout)
                    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"no start")
                    break
                if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
                if not budget.take(loop.time()):
                    log.warning("media stream: more than %.0f messages a second", self.settings.max_frames_per_second)
                    await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many messages")
                    break
                event = parse(message.data) if message.type == WSMsgType.TEXT else Malformed("not a text frame")
                if isinstance(event, Malformed):
                    malformed += 1
                    log.warning("media stream: malformed frame (%s)", event.reason)
                    if malformed > _MAX_MALFORMED:
                        break
                elif isinstance(event, Connected):
                    continue
                elif isinstance(event, Start) and session is None:
                    ctx = await asyncio.to_thread(self._context, event)
                    if ctx is None or ctx.attempt_id in self.sessions:
                        if ctx is not None:
                            log.warning("media stream refused: the call already has a stream")
                        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"unknown or finished call")
                        return ws
                    session = self._session(ctx, ws)
                    task = asyncio.ensure_future(session.run())
                    task.add_done_callback(lambda _: asyncio.ensure_future(ws.close()))
                elif session is not None:
                    session.deliver(event)
                    if isinstance(event, Stop):
                        break
        finally:
            if session is not None and task is not None:
                session.hangup_detected()
                try:
                    self._remember(session.ctx.attempt_id, await task)
                except Exception as exc:  # a bug below must not take the server down; the call is over
                    log.error("call %s ended by an error: %s", session.ctx.call_sid, type(exc).__name__)
                    self._remember(session.ctx.attempt_id, session.result)
                self.sessions.pop(session.ctx.attempt_id, None)
                await self._notify()
            if not ws.closed:
                await ws.close()
        return ws

    def _remember(self, attempt_id: int, result: CallResult) -> None:
        self.results[attempt_id] = result
        self.results.move_to_end(attempt_id)
        while len(self.results) > _KEEP_RESULTS:
            self.results.popitem(last=False)

    def _session(self, ctx: CallContext, ws: web.WebSocketResponse) -> CallSession:
        session = CallSession(ctx, settings=self.settings, store=self.store, dialogue=self.dialogue,
                              speaker=self.speaker, listeners=self.listeners, telephony=self.telephony,
                              send=ws.send_str)
        self.sessions[ctx.attempt_id] = session
        return session

    def _context(self, start: Start) -> CallContext | None:
        """(In a worker thread.) The call a ``start`` message belongs to, or None (unknown, finished or another
        call's attempt)."""
        try:
            attempt = self.store.get_contact_attempt(int(start.custom_parameters.get("attempt", "")))
        except ValueError:
            attempt = None
        if (attempt is None or attempt.channel != "voice" or _over(attempt)
                or attempt.external_id != start.call_sid or start.encoding != "audio/x-mulaw"
                or start.sample_rate != 8000):
            log.warning("media stream refused: not a live call of ours")
            return None
        resident = self.store.get_resident(attempt.resident_id)
        questionnaire = (attempt.detail or {}).get("questionnaire")
        if attempt.campaign_id is not None:
            campaign = self.store.get_campaign(attempt.campaign_id)
            questionnaire = campaign.questionnaire_id if campaign else questionnaire
        if resident is None or not questionnaire:
            return None
        return CallContext(attempt.id, resident, str(questionnaire), attempt.campaign_id, start.call_sid,
                           start.stream_sid)


class _Budget:
    """A token bucket: ``rate`` messages a second, bursts of two seconds' worth."""

    def __init__(self, rate: float, now: float) -> None:
        self.rate, self.capacity = rate, 2.0 * rate
        self.tokens, self.at = self.capacity, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


async def _read_capped(request: web.Request, limit: int) -> bytes:
    """The body, refused with 413 unread when it announces more than ``limit`` bytes, or stopped once it sends more."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit, request.content_length)
    body = bytearray()
    while True:
        chunk = await request.content.read(limit + 1 - len(body))
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise _too_large(limit, len(body))


def _refused(status: int, text: str) -> web.Response:
    """A refusal that closes the connection: aiohttp would otherwise read and discard the rest of an unread body
    for up to 10 s to keep the connection alive (an unauthenticated sender must not get that from us)."""
    response = web.Response(status=status, text=text)
    response.force_close()
    return response


def _too_large(limit: int, size: int) -> web.HTTPRequestEntityTooLarge:
    error = web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
    error.force_close()
    return error


def _parse_form(body: bytes) -> MultiDict[str]:
    """A strict ``application/x-www-form-urlencoded`` body (ASCII, ``name=value`` pairs); ValueError otherwise."""
    text = body.decode("ascii")
    if not text:
        return MultiDict()
    return MultiDict(parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=_MAX_FIELDS,
                               errors="strict"))


def _over(attempt: ContactAttemptView) -> bool:
    return (attempt.ended_at is not None or attempt.outcome in FINAL_OUTCOMES
            or "call_result" in (attempt.detail or {}))
