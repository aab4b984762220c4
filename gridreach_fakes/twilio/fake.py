"""The fake Twilio itself: its control surface for tests (callees, injected failures, waiting for calls) and the
Calls REST resource (create, list with the documented filters and paging, fetch, update)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from datetime import date, datetime, timezone
from urllib.parse import urlencode

from aiohttp import web

from gridreach_fakes.twilio.dialler import Dialler
from gridreach_fakes.twilio.records import API_VERSION, FINAL, Callee, FakeCall, RestRequest, new_sid, sign

__all__ = ["FakeTwilio"]

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
        self._dialler = Dialler(self.account_sid, self.auth_token)

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
        await self._dialler.open()

    async def _stop(self) -> None:
        await self._dialler.close(self.calls.values())
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
        self._dialler.dial(call)
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

    async def _known_call(self, request: web.Request) -> tuple[dict[str, list[str]], FakeCall | web.Response]:
        """The request's parameters and its call, or the refusal Twilio answers (bad auth, unknown call: 20404)."""
        params, refused = await self._check(request)
        if refused is not None:
            return params, refused
        call = self.calls.get(request.match_info["sid"])
        return params, (call if call is not None else self._error(request, params, 404, 20404))

    async def _fetch(self, request: web.Request) -> web.Response:
        params, call = await self._known_call(request)
        return call if isinstance(call, web.Response) else self._ok(request, params, call, 200)

    async def _update(self, request: web.Request) -> web.Response:
        params, call = await self._known_call(request)
        if isinstance(call, web.Response):
            return call
        first = {k: v[0] for k, v in params.items()}
        status = first.get("Status")
        if status is not None:
            if status not in ("completed", "canceled"):
                return self._error(request, params, 400, 21218, f"Invalid Status: {status}")
            if call.status in FINAL:
                return self._ok(request, params, call, 200)
            if status == "completed" or call.status in ("queued", "initiated", "ringing"):
                self._dialler.end_now(call, "completed" if call.status == "in-progress" else "canceled")
            return self._ok(request, params, call, 200)
        if not (first.get("Twiml") or first.get("Url")):
            return self._error(request, params, 400, 21205, "Url, Twiml or Status is required.")
        if call.status != "in-progress":
            return self._error(request, params, 400, 21220, "Call is not in-progress. Cannot redirect.")
        if first.get("Twiml"):
            call._pending.append(first["Twiml"])
        else:
            call._pending.append("url:" + first["Url"])
        self._dialler.interrupt(call)
        return self._ok(request, params, call, 200)
