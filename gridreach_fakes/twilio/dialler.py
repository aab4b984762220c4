"""How the fake Twilio carries a created call through: ringing, the callee's outcome, the signed TwiML fetch and
status callbacks, the TwiML verbs, and the Media Stream played by the callee's ``Phone``."""

from __future__ import annotations

import asyncio
import contextlib
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from email.utils import formatdate

import aiohttp

from gridreach_fakes.phone import Phone
from gridreach_fakes.twilio.records import API_VERSION, FakeCall, Webhook, sign

__all__ = ["Dialler"]


class Dialler:
    """Runs the calls of one account on the fake's event loop; ``open`` and ``close`` it on that loop."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))

    async def close(self, calls: Iterable[FakeCall]) -> None:
        """Hang up every phone, let the calls send their last callbacks, then close the HTTP session."""
        for call in calls:
            if call.phone is not None:
                call.phone.hang_up("shutdown")
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=30)
        for task in self._tasks:
            task.cancel()
        if self._session is not None:
            await self._session.close()

    def dial(self, call: FakeCall) -> None:
        """Start the call in the background (on the running loop): it rings, then its callee's outcome plays."""
        task = asyncio.get_running_loop().create_task(self._ring(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def end_now(self, call: FakeCall, final: str) -> None:
        """Hang up (REST ``Status=completed`` / ``canceled``): the call ends with ``final``."""
        call._pending.append(f"end:{final}")
        self.interrupt(call)

    def interrupt(self, call: FakeCall) -> None:
        """Stop what the call is doing (the stream, the ringing) so that its pending TwiML or end runs now."""
        if call.phone is not None:
            call.phone.hang_up("api")
        if call._wake is not None:
            call._wake.set()

    async def _ring(self, call: FakeCall) -> None:
        call._wake = asyncio.Event()
        final = "failed"
        try:
            final = await self._progress(call)
        except Exception as exc:  # a bug in the fake must end the call and be visible, not hang the test
            call.errors.append(f"fake twilio: {type(exc).__name__}: {exc}")
        finally:
            call.status = final
            call.ended_at = time.time()
            if call.answered_at is not None:
                call.duration = max(1, round(time.monotonic() - call.answered_at))
            extra = {"CallDuration": str(call.duration), "Duration": str((call.duration + 59) // 60)}
            await self._status(call, "completed", final, extra)
            call.ended.set()

    async def _progress(self, call: FakeCall) -> str:
        assert call._wake is not None
        call.started_at = time.time()
        call.status = "initiated"
        await self._status(call, "initiated", "initiated")
        call.status = "ringing"
        await self._status(call, "ringing", "ringing")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(call._wake.wait(), timeout=call.callee.ring)
        if call._pending and call._pending[0].startswith("end:"):
            return "canceled"
        outcome = call.callee.outcome
        if outcome in ("busy", "no-answer", "failed"):
            return outcome
        call.status = "in-progress"
        call.answered_at = time.monotonic()
        if call.param("MachineDetection"):
            call.answered_by = "machine_start" if outcome == "machine" else "human"
        await self._status(call, "answered", "in-progress")
        twiml = call.param("Twiml")
        document = twiml if twiml else await self._fetch_twiml(call, call.param("Url") or "")
        while document is not None:
            document = await self._run_twiml(call, document)
            while document is None and call._pending:
                pending = call._pending.pop(0)
                if pending.startswith("end:"):
                    return pending[4:]
                document = await self._fetch_twiml(call, pending[4:]) if pending.startswith("url:") else pending
        return "completed"

    def _base_params(self, call: FakeCall, status: str) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid, "ApiVersion": API_VERSION, "CallSid": call.sid, "CallStatus": status,
            "Called": call.to, "Caller": call.from_, "Direction": "outbound-api", "From": call.from_, "To": call.to,
        }
        if call.answered_by is not None:
            params["AnsweredBy"] = call.answered_by
        return params

    async def _post(self, call: FakeCall, kind: str, url: str, params: dict[str, str]) -> Webhook:
        assert self._session is not None
        hook = Webhook(kind, url, params, None)
        call.webhooks.append(hook)
        headers = {"X-Twilio-Signature": sign(self.auth_token, url, params), "User-Agent": "TwilioProxy/1.1"}
        try:
            async with self._session.post(url, data=params, headers=headers) as response:
                hook.status = response.status
                hook.body = await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            hook.error = f"{type(exc).__name__}: {exc}"
        return hook

    async def _status(self, call: FakeCall, event: str, status: str, extra: dict[str, str] | None = None) -> None:
        url = call.param("StatusCallback")
        events = " ".join(call.params.get("StatusCallbackEvent", [])).split() or ["completed"]
        if not url or event not in events:
            return
        params = self._base_params(call, status)
        params.update({"CallbackSource": "call-progress-events", "Timestamp": formatdate(usegmt=True),
                       "SequenceNumber": str(len(call.callbacks))})
        params.update(extra or {})
        await self._post(call, "status", url, params)

    async def _fetch_twiml(self, call: FakeCall, url: str) -> str | None:
        hook = await self._post(call, "twiml", url, self._base_params(call, "in-progress"))
        if hook.status != 200:
            call.errors.append(f"TwiML fetch from {url} failed: {hook.status or hook.error}")
            return None
        return hook.body

    async def _run_twiml(self, call: FakeCall, document: str) -> str | None:
        """Run one TwiML document; return the next one (Redirect) or None when it is done."""
        call.twiml.append(document)
        try:
            root = ET.fromstring(document)
        except ET.ParseError as exc:
            call.errors.append(f"12100 Document parse failure: {exc}")
            return None
        if root.tag != "Response":
            call.errors.append(f"12100 the root element is <{root.tag}>, not <Response>")
            return None
        for verb in root:
            if call._pending:
                return None
            if verb.tag == "Say":
                call.said.append(verb.text or "")
            elif verb.tag == "Pause":
                await asyncio.sleep(float(verb.get("length", "1")) / max(call.callee.speed, 1.0))
            elif verb.tag in ("Hangup", "Reject"):
                return None
            elif verb.tag == "Dial":
                numbers = [n.text or "" for n in verb if n.tag == "Number"] or [(verb.text or "").strip()]
                call.transfers.extend(n.strip() for n in numbers if n.strip())
            elif verb.tag == "Redirect":
                return await self._fetch_twiml(call, (verb.text or "").strip())
            elif verb.tag == "Connect":
                stream = verb.find("Stream")
                if stream is None or not stream.get("url"):
                    call.errors.append("12200 <Connect> without a <Stream url=...>")
                    return None
                await self._stream(call, stream)
            else:
                call.errors.append(f"12200 unsupported TwiML verb <{verb.tag}>")
                return None
        return None

    async def _stream(self, call: FakeCall, stream: ET.Element) -> None:
        url = stream.get("url", "")
        call.stream_url = url
        call.stream_parameters = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
        callee = call.callee
        phone = Phone(callee.script, speed=callee.speed, quiet=callee.quiet, turn_timeout=callee.turn_timeout,
                      marks=callee.marks)
        call.phone = phone
        if call._pending:  # hung up or redirected while the TwiML was being fetched
            return
        headers = {"X-Twilio-Signature": sign(self.auth_token, url, {})}
        await phone.run(url, account_sid=self.account_sid, call_sid=call.sid,
                        custom_parameters=call.stream_parameters, headers=headers)
        if phone.connect_error:
            call.errors.append(f"31920 Stream - WebSocket - Handshake Error: {phone.connect_error}")
        if phone.ended_by in ("caller", "script") and not call._pending:
            call._pending.append("end:completed")
