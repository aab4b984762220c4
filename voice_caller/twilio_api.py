"""The one module that imports the Twilio SDK: place calls, redirect (transfer) and hang up, TwiML, signatures.

The SDK (twilio 8.2) builds every URL on ``https://api.twilio.com``; ``RebasedHttpClient`` (an SDK ``HttpClient``)
rewrites scheme, host and path prefix to the configured ``api_base_url``, so a regional endpoint or a loopback
fake is plain configuration. SDK and ``requests`` errors are translated into ``TelephonyError``:
``retryable`` for HTTP 429, 5xx and connection failures. The blocking SDK runs in an executor.

Placing a call is never repeated blindly. A 429, or a connection that was never made, proves that nothing was
created: it is retried with exponential backoff a bounded number of times. A timeout, a reset connection or a 5xx
may come after Twilio created the call: after the backoff the call is looked up (``GET …/Calls.json`` with ``To``,
``From`` and ``StartTime>=`` the day we began, plus the ``queued`` calls, which have no start time yet), and a call
to this number from our number created since we began is adopted instead of placing another. When the look-up
fails too, the error is ``unconfirmed``: nothing more is tried. Any other error (401, 400 ...) is final at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import Connect, VoiceResponse
from urllib3.exceptions import NewConnectionError

from gridreach.errors import TelephonyError
from gridreach.phones import mask_phone
from voice_caller.config import VoiceSettings

__all__ = [
    "STATUS_EVENTS",
    "PlacedCall",
    "RebasedHttpClient",
    "TwilioTelephony",
    "connect_stream_twiml",
    "dial_twiml",
    "hangup_twiml",
    "signature_valid",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
CLOCK_SLACK = timedelta(minutes=2)  # Twilio's clock against ours, when matching a call's creation time


class RebasedHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sending every request to ``base_url`` instead of ``*.twilio.com``."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self.base = urlsplit(base_url.rstrip("/"))

    def rebase(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, ""))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, self.rebase(url), *args, **kwargs)


@dataclass(frozen=True)
class PlacedCall:
    """A call Twilio accepted: its CallSid, its first status, how many tries placing it took, and whether it was
    found by a look-up after a failure whose reply was lost (``adopted``) rather than confirmed by the reply."""

    sid: str
    status: str
    tries: int = 1
    adopted: bool = False


def _ambiguous(exc: Exception) -> bool:
    """Whether a failed create may still have created the call (timeout, reset, 5xx)."""
    if isinstance(exc, TwilioRestException):
        return int(exc.status) >= 500
    if isinstance(exc, requests.ConnectTimeout):
        return False  # never connected: nothing was sent
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return not isinstance(reason, NewConnectionError)  # refused / no route: nothing was sent
    return isinstance(exc, requests.RequestException)


def _translate(what: str, exc: Exception) -> TelephonyError:
    if isinstance(exc, TwilioRestException):
        status = int(exc.status)
        retryable = status == 429 or status >= 500
        return TelephonyError(
            f"Twilio refused to {what}: HTTP {status}" + (f", error {exc.code}" if exc.code else ""),
            status=status,
            code=exc.code,
            retryable=retryable,
        )
    page = exc.args[1] if isinstance(exc, TwilioException) and len(exc.args) > 1 else None
    if isinstance(page, Response):  # a list page the API refused ("Unable to fetch page", response)
        status = int(page.status_code)
        return TelephonyError(f"Twilio refused to {what}: HTTP {status}", status=status,
                              retryable=status == 429 or status >= 500)
    if isinstance(exc, requests.RequestException):
        return TelephonyError(f"Twilio unreachable to {what}: {type(exc).__name__}", retryable=True)
    return TelephonyError(f"Twilio client failed to {what}: {type(exc).__name__}")


class TwilioTelephony:
    """Calls through the Twilio REST API. No network traffic until a method is called."""

    def __init__(
        self,
        settings: VoiceSettings,
        *,
        retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._client = Client(
            settings.account_sid,
            settings.auth_token,
            http_client=RebasedHttpClient(settings.api_base_url, timeout=timeout),
        )

    # ---- blocking calls (run them in an executor, or use the async versions below) ---------
    def place_call_sync(self, to: str, twiml_url: str, status_url: str) -> PlacedCall:
        """Ask Twilio to call ``to``; on answer it fetches TwiML from ``twiml_url`` and reports to ``status_url``."""
        params: dict[str, Any] = {
            "to": to,
            "from_": self.settings.from_number,
            "url": twiml_url,
            "method": "POST",
            "status_callback": status_url,
            "status_callback_method": "POST",
            "status_callback_event": list(STATUS_EVENTS),
        }
        if self.settings.machine_detection:
            params["machine_detection"] = "Enable"
        began = datetime.now(timezone.utc)
        tries = 0
        while True:
            tries += 1
            try:
                call = self._client.calls.create(**params)
                log.info("call placed to %s: %s", mask_phone(to), call.sid)
                return PlacedCall(str(call.sid), str(call.status or "queued"), tries)
            except (TwilioException, requests.RequestException) as exc:
                error, ambiguous = _translate("place a call", exc), _ambiguous(exc)
            if not error.retryable and not ambiguous:
                log.warning("placing a call to %s failed: %s", mask_phone(to), error)
                raise error
            delay = self.backoff * 2 ** (tries - 1)
            if ambiguous:  # the call may exist: wait, then look for it before anything else
                self._sleep(delay)
                found = self._find_placed(to, began, error)
                if found is not None:
                    log.warning("placing a call to %s: %s, but Twilio has the call %s: adopted", mask_phone(to),
                                error, found.sid)
                    return PlacedCall(found.sid, found.status, tries, adopted=True)
            if tries > self.retries:
                log.warning("placing a call to %s failed after %d tries: %s", mask_phone(to), tries, error)
                raise error
            log.info("placing a call: %s; retry %d%s", error, tries, "" if ambiguous else f" in {delay:.1f} s")
            if not ambiguous:
                self._sleep(delay)

    def _find_placed(self, to: str, began: datetime, error: TelephonyError) -> PlacedCall | None:
        """The call to ``to`` from our number created since ``began`` (less the clock slack), if Twilio has one;
        raises an ``unconfirmed`` ``TelephonyError`` when Twilio cannot tell us."""
        try:
            return _earliest(self.find_calls_sync(to, began - CLOCK_SLACK))
        except TelephonyError as lookup:
            log.warning("placing a call to %s: %s, and looking the call up failed (%s): not placed again",
                        mask_phone(to), error, lookup)
            raise TelephonyError(
                f"{error}; whether Twilio created the call is unknown (looking it up failed: {lookup}). It is not "
                "placed again: if it exists its status callbacks will record it; check the Twilio console",
                status=error.status, code=error.code, unconfirmed=True,
            ) from None

    def find_calls_sync(self, to: str, since: datetime) -> list[PlacedCall]:
        """Calls from our number to ``to`` created at or after ``since`` (Twilio's Calls list, filtered)."""
        day = since.astimezone(timezone.utc).date().isoformat()
        try:
            started = self._client.calls.list(to=to, from_=self.settings.from_number, start_time_after=day,
                                              page_size=50, limit=200)
            queued = self._client.calls.list(to=to, from_=self.settings.from_number, status="queued",
                                             page_size=50, limit=200)
        except (TwilioException, requests.RequestException) as exc:
            raise _translate("list calls", exc) from exc
        seen: dict[str, tuple[datetime, PlacedCall]] = {}
        for call in [*started, *queued]:
            created = call.date_created
            if created is None or created < since:
                continue
            seen[str(call.sid)] = (created, PlacedCall(str(call.sid), str(call.status or "queued")))
        return [placed for _, placed in sorted(seen.values(), key=lambda item: item[0])]

    def redirect_sync(self, call_sid: str, twiml: str) -> None:
        """Replace what a live call is doing with ``twiml`` (this ends its Media Stream)."""
        try:
            self._client.calls(call_sid).update(twiml=twiml)
        except (TwilioException, requests.RequestException) as exc:
            raise _translate("redirect a call", exc) from exc

    def hangup_sync(self, call_sid: str) -> None:
        """End a live call."""
        try:
            self._client.calls(call_sid).update(status="completed")
        except (TwilioException, requests.RequestException) as exc:
            raise _translate("hang up a call", exc) from exc

    # ---- async versions -------------------------------------------------------------------
    async def _off_loop(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    async def place_call(self, to: str, twiml_url: str, status_url: str) -> PlacedCall:
        return await self._off_loop(partial(self.place_call_sync, to, twiml_url, status_url))

    async def transfer(self, call_sid: str, phone: str) -> None:
        """Connect the resident to ``phone`` (the grid worker): the call leaves our stream for a ``<Dial>``."""
        await self._off_loop(partial(self.redirect_sync, call_sid, dial_twiml(phone, self.settings.from_number)))

    async def hangup(self, call_sid: str) -> None:
        await self._off_loop(partial(self.hangup_sync, call_sid))


def _earliest(calls: Iterable[PlacedCall]) -> PlacedCall | None:
    found = list(calls)
    if len(found) > 1:
        log.warning("%d calls to one number since this attempt began: the first is adopted", len(found))
    return found[0] if found else None


# ---- TwiML ----------------------------------------------------------------------------------
def connect_stream_twiml(stream_url: str, parameters: Mapping[str, str]) -> str:
    """``<Response><Connect><Stream url=…><Parameter …/></Stream></Connect></Response>`` (bidirectional)."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


def dial_twiml(phone: str, caller_id: str | None = None) -> str:
    """``<Response><Dial callerId=…>phone</Dial></Response>``: hand the call to a person."""
    response = VoiceResponse()
    if caller_id:
        response.dial(phone, caller_id=caller_id)
    else:
        response.dial(phone)
    return str(response)


def hangup_twiml() -> str:
    """``<Response><Hangup/></Response>``."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


# ---- signatures ---------------------------------------------------------------------------
def signature_valid(auth_token: str, url: str, params: Mapping[str, Any] | str, signature: str | None) -> bool:
    """Whether ``signature`` (the X-Twilio-Signature header) signs ``url`` + ``params`` with ``auth_token``.

    ``params`` are the POST form fields (a multi-dict is fine), or the raw body of a JSON request whose URL carries
    ``bodySHA256``. A missing signature is invalid, and so is anything the vendor's validator cannot read (it raises
    TypeError for a text body under a URL whose ``bodySHA256`` is empty: found by tests/fuzz): the check fails closed.
    """
    if not signature:
        return False
    try:
        return bool(RequestValidator(auth_token).validate(url, params, signature))
    except (TypeError, ValueError, KeyError, AttributeError, UnicodeError):
        return False
