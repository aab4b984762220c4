"""The one module that imports the Twilio SDK: place calls, redirect (transfer) and hang up, TwiML, signatures.

The SDK (twilio 8.2) builds every URL on ``https://api.twilio.com``; ``RebasedHttpClient`` (an SDK ``HttpClient``)
rewrites scheme, host and path prefix to the configured ``api_base_url``, so a regional endpoint or a loopback
fake is plain configuration. SDK and ``requests`` errors are translated into ``TelephonyError``:
``retryable`` for HTTP 429, 5xx and connection failures. Placing a call retries those with exponential backoff a
bounded number of times; any other error (401, 400 ...) is final at once. The blocking SDK runs in an executor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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

from gridreach.phones import mask_phone
from voice_caller.config import VoiceSettings
from voice_caller.errors import TelephonyError

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
    """A call Twilio accepted: its CallSid, its first status, and how many tries placing it took."""

    sid: str
    status: str
    tries: int = 1


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
        tries = 0
        while True:
            tries += 1
            try:
                call = self._client.calls.create(**params)
                log.info("call placed to %s: %s", mask_phone(to), call.sid)
                return PlacedCall(str(call.sid), str(call.status or "queued"), tries)
            except (TwilioException, requests.RequestException) as exc:
                error = _translate("place a call", exc)
            if not error.retryable or tries > self.retries:
                log.warning("placing a call to %s failed after %d tries: %s", mask_phone(to), tries, error)
                raise error
            delay = self.backoff * 2 ** (tries - 1)
            log.info("placing a call: %s; retry %d in %.1f s", error, tries, delay)
            self._sleep(delay)

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
    ``bodySHA256``. A missing signature is invalid.
    """
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))
