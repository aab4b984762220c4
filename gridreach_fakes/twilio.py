"""A fake Twilio on 127.0.0.1: the Calls REST resource, signed webhooks, TwiML, and a phone at the other end.

Written from Twilio's documentation, never from our adapter (this module does not import ``voice_caller``):

* ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` (HTTP Basic auth: AccountSid + auth token) with form
  params ``To``, ``From``, ``Url`` (or ``Twiml``), ``StatusCallback``, ``StatusCallbackEvent`` (repeatable:
  initiated ringing answered completed; default completed only), ``MachineDetection``; answers ``201`` with the
  call as JSON, or a Twilio error body ``{"code", "message", "more_info", "status"}`` (401 bad credentials,
  400 bad parameters, and 429/500 on demand: ``fail_next``).
* ``GET /2010-04-01/Accounts/{AccountSid}/Calls.json`` lists calls, most recent first, filtered as documented:
  ``To``, ``From``, ``Status``, ``StartTime`` (``YYYY-MM-DD``: started that day, UTC), ``StartTime>=`` / ``StartTime<=``
  (sent as the parameter names ``StartTime>`` / ``StartTime<``: started on or after / on or before that day; a call
  not yet dialled has no start time and matches no StartTime filter), paged with ``PageSize`` (≤ 1000) and ``Page``.
* ``lose_next_create(how)``: the next create makes the call (it rings and calls back as usual) but its reply is
  lost: ``timeout`` (no reply for ``hold`` seconds), ``reset`` (the connection is dropped) or ``500``.
* ``POST …/Calls/{CallSid}.json`` with ``Twiml`` or ``Url`` (redirect: the stream stops, the new TwiML runs) or
  ``Status=completed`` (hang up) / ``Status=canceled`` (a call not yet answered); ``GET`` fetches the call.
* Each callee has a ``Callee`` behaviour: answer (a ``Phone`` with a script), busy, no-answer, failed, machine.
  An answered call POSTs to ``Url`` (form: AccountSid, ApiVersion, CallSid, CallStatus, Called, Caller, Direction,
  From, To, and AnsweredBy when machine detection was asked) with ``X-Twilio-Signature`` (HMAC-SHA1 over the URL
  followed by the sorted params, base64, keyed by the auth token), runs the TwiML: ``<Connect><Stream url>`` with
  ``<Parameter>``s opens the websocket (its handshake signed too) and runs the phone; ``<Say>``, ``<Pause>``,
  ``<Dial>`` (recorded as a transfer), ``<Redirect>``, ``<Hangup>``, ``<Reject>``.
* Status callbacks are POSTed, signed, for the events asked: CallStatus initiated / ringing / in-progress and the
  final completed / busy / no-answer / failed / canceled, with CallDuration and AnsweredBy.

Everything is recorded for assertions: ``requests`` (REST), ``calls`` (each with its webhooks, callbacks and their
HTTP results, TwiML, stream, phone and transfers). The server runs on its own event loop in a background thread;
use ``with FakeTwilio(...) as fake:`` and ``fake.base_url`` as the API base URL.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from gridreach_fakes.phone import Phone, Script

__all__ = ["Callee", "FakeCall", "FakeTwilio", "RestRequest", "Webhook", "new_sid", "sign"]

API_VERSION = "2010-04-01"
FINAL = ("completed", "busy", "no-answer", "failed", "canceled")
_ERRORS = {
    400: "Bad Request", 401: "Authenticate", 404: "The requested resource was not found",
    429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
}


def _day(text: str) -> date:
    """A StartTime filter value: ``YYYY-MM-DD`` (the SDKs may send a full ISO time: its day counts)."""
    return date.fromisoformat(text[:10]) if len(text) in (10, 20) else date.fromisoformat(text)


def _matches(call: FakeCall, first: Mapping[str, str], days: Mapping[str, date]) -> bool:
    if first.get("To") and call.to != first["To"]:
        return False
    if first.get("From") and call.from_ != first["From"]:
        return False
    if first.get("Status") and call.status != first["Status"]:
        return False
    if days:
        if call.started_at is None:
            return False
        day = datetime.fromtimestamp(call.started_at, timezone.utc).date()
        checks = {"=": day.__eq__, ">=": day.__ge__, "<=": day.__le__}
        return all(checks[op](value) for op, value in days.items())
    return True


def new_sid(prefix: str) -> str:
    """A Twilio SID: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def sign(auth_token: str, url: str, params: Mapping[str, str | Iterable[str]] | None = None) -> str:
    """``X-Twilio-Signature``: HMAC-SHA1 (key: auth token) of the URL followed by each param name+value, sorted."""
    data = url
    for name in sorted(params or {}):
        value = (params or {})[name]
        for item in sorted([value] if isinstance(value, str) else value):
            data += name + item
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Callee:
    """How the person at a number behaves: ``outcome`` answer | busy | no-answer | failed | machine."""

    outcome: str = "answer"
    script: Script = ()
    speed: float = 1.0
    ring: float = 0.05  # seconds of ringing before the outcome
    quiet: float = 0.8  # see Phone
    turn_timeout: float = 60.0
    marks: bool = False  # see Phone: wait for each step's prompts to be marked as played

    def __post_init__(self) -> None:
        if self.outcome not in ("answer", "busy", "no-answer", "failed", "machine"):
            raise ValueError(f"unknown callee outcome {self.outcome!r}")


@dataclass
class RestRequest:
    method: str
    path: str
    params: dict[str, list[str]]
    status: int
    response: dict[str, Any]


@dataclass
class Webhook:
    """One signed request we made to the application (TwiML fetch or status callback) and what it answered."""

    kind: str  # "twiml" | "status"
    url: str
    params: dict[str, str]
    status: int | None  # HTTP status, None when the request failed
    body: str = ""
    error: str | None = None


@dataclass
class FakeCall:
    sid: str
    to: str
    from_: str
    params: dict[str, list[str]]
    callee: Callee
    status: str = "queued"
    answered_by: str | None = None
    answered_at: float | None = None
    duration: int = 0
    webhooks: list[Webhook] = field(default_factory=list)
    twiml: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    transfers: list[str] = field(default_factory=list)
    stream_url: str | None = None
    stream_parameters: dict[str, str] = field(default_factory=dict)
    phone: Phone | None = None
    errors: list[str] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None  # when it was dialled (Twilio's start_time)
    ended_at: float | None = None
    ended: threading.Event = field(default_factory=threading.Event)
    _pending: list[str] = field(default_factory=list)  # TwiML documents to run next (redirects)
    _wake: asyncio.Event | None = None

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.params.get(name)
        return values[0] if values else default

    @property
    def callbacks(self) -> list[Webhook]:
        return [w for w in self.webhooks if w.kind == "status"]

    def callback_statuses(self) -> list[str]:
        return [w.params["CallStatus"] for w in self.callbacks]

    def as_json(self, account_sid: str) -> dict[str, Any]:
        now = formatdate(usegmt=True)
        when = {k: None if t is None else formatdate(t, usegmt=True)
                for k, t in (("start_time", self.started_at), ("end_time", self.ended_at))}
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Calls/{self.sid}.json"
        return {
            "sid": self.sid, "account_sid": account_sid, "to": self.to, "to_formatted": self.to,
            "from": self.from_, "from_formatted": self.from_, "status": self.status,
            "direction": "outbound-api", "api_version": API_VERSION, "answered_by": self.answered_by,
            "duration": str(self.duration) if self.status in FINAL else None, "price": None, "price_unit": "USD",
            "date_created": formatdate(self.created_at, usegmt=True), "date_updated": now, **when,
            "parent_call_sid": None, "phone_number_sid": None, "caller_name": None, "forwarded_from": None,
            "group_sid": None, "queue_time": "0", "trunk_sid": None, "annotation": None, "uri": uri,
            "subresource_uris": {"notifications": uri.replace(".json", "/Notifications.json"),
                                 "recordings": uri.replace(".json", "/Recordings.json")},
        }


class FakeTwilio:
    """The fake; ``callees`` maps a number to its behaviour, ``default`` is for any other number."""

    def __init__(self, account_sid: str | None = None, auth_token: str | None = None,
                 callees: Mapping[str, Callee] | None = None, default: Callee | None = None) -> None:
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token or secrets.token_hex(16)
        self.callees: dict[str, Callee] = dict(callees or {})
        self.default = default or Callee("no-answer")
        self.requests: list[RestRequest] = []
        self.calls: dict[str, FakeCall] = {}
        self.base_url = ""
        self._failures: list[tuple[int, str | None]] = []
        self._lost: list[tuple[str, float]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    # ---- control -----------------------------------------------------------------------------------------
    def __enter__(self) -> FakeTwilio:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-twilio", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def expect(self, number: str, callee: Callee) -> None:
        """Script the person at ``number``."""
        self.callees[number] = callee

    def fail_next(self, count: int, status: int = 429, method: str | None = None) -> None:
        """Answer the next ``count`` REST requests (of ``method``, or any) with this HTTP error (429 or 5xx), as
        Twilio does under load; nothing is created."""
        self._failures.extend([(status, method)] * count)

    def lose_next_create(self, how: str = "timeout", hold: float = 3.0) -> None:
        """The next call creation succeeds (the call is made) but its reply is lost: ``timeout`` (nothing for
        ``hold`` seconds, then the reply), ``reset`` (the connection is dropped) or ``500`` (an error reply)."""
        if how not in ("timeout", "reset", "500"):
            raise ValueError(f"unknown way to lose a reply {how!r}")
        self._lost.append((how, hold))

    def created(self, to: str | None = None) -> list[FakeCall]:
        """The calls created (to ``to``), oldest first."""
        return [c for c in self.calls.values() if to is None or c.to == to]

    def wait(self, sid: str, timeout: float = 120.0) -> FakeCall:
        """Block until the call has ended (its final status callback is sent); return it."""
        call = self.calls[sid]
        if not call.ended.wait(timeout):
            raise TimeoutError(f"call {sid} still {call.status} after {timeout} s")
        return call

    def wait_all(self, timeout: float = 300.0) -> list[FakeCall]:
        deadline = time.monotonic() + timeout
        for call in list(self.calls.values()):
            if not call.ended.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"call {call.sid} still {call.status}")
        return list(self.calls.values())

    def signature(self, url: str, params: Mapping[str, str] | None = None) -> str:
        return sign(self.auth_token, url, params)

    # ---- server ------------------------------------------------------------------------------------------
    async def _start(self) -> None:
        app = web.Application()
        base = f"/{API_VERSION}/Accounts/{{account}}/Calls"
        app.router.add_post(base + ".json", self._create)
        app.router.add_get(base + ".json", self._list)
        app.router.add_post(base + "/{sid}.json", self._update)
        app.router.add_get(base + "/{sid}.json", self._fetch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))

    async def _stop(self) -> None:
        for call in self.calls.values():
            if call.phone is not None:
                call.phone.hang_up("shutdown")
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=30)
        for task in self._tasks:
            task.cancel()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _error(self, request: web.Request, params: dict[str, list[str]], status: int, code: int,
               message: str | None = None) -> web.Response:
        body = {"code": code, "message": message or _ERRORS.get(status, "Error"),
                "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
        self.requests.append(RestRequest(request.method, request.path, params, status, body))
        return web.json_response(body, status=status)

    async def _check(self, request: web.Request) -> tuple[dict[str, list[str]], web.Response | None]:
        form = await request.post()
        params: dict[str, list[str]] = {}
        for key, value in form.items():
            params.setdefault(key, []).append(str(value))
        for i, (status, method) in enumerate(self._failures):
            if method in (None, request.method):
                del self._failures[i]
                return params, self._error(request, params, status, 20429 if status == 429 else 20500)
        auth = request.headers.get("Authorization", "")
        user = password = ""
        if auth.startswith("Basic "):
            with contextlib.suppress(ValueError):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        if not (hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(password, self.auth_token)):
            return params, self._error(request, params, 401, 20003)
        if request.match_info["account"] != self.account_sid:
            return params, self._error(request, params, 404, 20404)
        return params, None

    def _ok(self, request: web.Request, params: dict[str, list[str]], call: FakeCall, status: int) -> web.Response:
        body = call.as_json(self.account_sid)
        self.requests.append(RestRequest(request.method, request.path, params, status, body))
        return web.json_response(body, status=status)

    async def _create(self, request: web.Request) -> web.Response:
        params, refused = await self._check(request)
        if refused is not None:
            return refused
        first = {k: v[0] for k, v in params.items()}
        if not first.get("To"):
            return self._error(request, params, 400, 21201, "No 'To' number is specified")
        if not first.get("From"):
            return self._error(request, params, 400, 21603, "A 'From' phone number is required.")
        if not (first.get("Url") or first.get("Twiml") or first.get("ApplicationSid")):
            return self._error(request, params, 400, 21205, "Url parameter is required.")
        for key in ("Url", "StatusCallback"):
            if first.get(key) and not first[key].startswith(("http://", "https://")):
                return self._error(request, params, 400, 21205, f"{key} is not a valid URL: {first[key]}")
        call = FakeCall(new_sid("CA"), first["To"], first["From"], params,
                        self.callees.get(first["To"], self.default))
        self.calls[call.sid] = call
        response = self._ok(request, params, call, 201)
        self._spawn(self._ring(call))
        if self._lost:
            how, hold = self._lost.pop(0)
            if how == "500":
                self.requests.pop()
                return self._error(request, params, 500, 20500)
            self.requests[-1].status = 0  # the client never gets this reply
            if how == "reset":
                assert request.transport is not None
                request.transport.abort()
                return response
            await asyncio.sleep(hold)
        return response

    async def _list(self, request: web.Request) -> web.Response:
        _, refused = await self._check(request)
        if refused is not None:
            return refused
        query: dict[str, list[str]] = {}
        for key, value in request.query.items():
            query.setdefault(key, []).append(value)
        first = {k: v[0] for k, v in query.items()}
        try:
            days = {op: _day(first[key]) for op, key in (("=", "StartTime"), (">=", "StartTime>"),
                                                         (">=", "StartTime>="), ("<=", "StartTime<"),
                                                         ("<=", "StartTime<=")) if key in first}
            size, page = int(first.get("PageSize", "50")), int(first.get("Page", "0"))
        except ValueError as exc:
            return self._error(request, query, 400, 20001, f"Invalid parameter: {exc}")
        if not 1 <= size <= 1000 or page < 0:
            return self._error(request, query, 400, 20001, "Invalid PageSize or Page")
        found = [c for c in sorted(self.calls.values(), key=lambda c: c.created_at, reverse=True)
                 if _matches(c, first, days)]
        chunk = found[page * size:(page + 1) * size]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls.json"
        keep = {k: v for k, v in first.items() if k not in ("Page", "PageSize", "PageToken")}

        def page_uri(n: int) -> str:
            return uri + "?" + urlencode({**keep, "PageSize": size, "Page": n})

        body = {"calls": [c.as_json(self.account_sid) for c in chunk], "page": page, "page_size": size,
                "start": page * size, "end": page * size + max(len(chunk) - 1, 0), "uri": page_uri(page),
                "first_page_uri": page_uri(0), "previous_page_uri": page_uri(page - 1) if page else None,
                "next_page_uri": page_uri(page + 1) if len(found) > (page + 1) * size else None}
        self.requests.append(RestRequest(request.method, request.path_qs, query, 200, body))
        return web.json_response(body)

    async def _fetch(self, request: web.Request) -> web.Response:
        params, refused = await self._check(request)
        if refused is not None:
            return refused
        call = self.calls.get(request.match_info["sid"])
        if call is None:
            return self._error(request, params, 404, 20404)
        return self._ok(request, params, call, 200)

    async def _update(self, request: web.Request) -> web.Response:
        params, refused = await self._check(request)
        if refused is not None:
            return refused
        call = self.calls.get(request.match_info["sid"])
        if call is None:
            return self._error(request, params, 404, 20404)
        first = {k: v[0] for k, v in params.items()}
        status = first.get("Status")
        if status is not None:
            if status not in ("completed", "canceled"):
                return self._error(request, params, 400, 21218, f"Invalid Status: {status}")
            if call.status in FINAL:
                return self._ok(request, params, call, 200)
            if status == "completed" or call.status in ("queued", "initiated", "ringing"):
                self._end_now(call, "completed" if call.status == "in-progress" else "canceled")
            return self._ok(request, params, call, 200)
        if not (first.get("Twiml") or first.get("Url")):
            return self._error(request, params, 400, 21205, "Url, Twiml or Status is required.")
        if call.status != "in-progress":
            return self._error(request, params, 400, 21220, "Call is not in-progress. Cannot redirect.")
        if first.get("Twiml"):
            call._pending.append(first["Twiml"])
        else:
            call._pending.append("url:" + first["Url"])
        self._interrupt(call)
        return self._ok(request, params, call, 200)

    # ---- the call ----------------------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _end_now(self, call: FakeCall, final: str) -> None:
        call._pending.append(f"end:{final}")
        self._interrupt(call)

    def _interrupt(self, call: FakeCall) -> None:
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
