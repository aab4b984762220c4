"""The Twilio REST client (official SDK, base URL from config) against a loopback stand-in of the Calls API."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from gridreach.errors import TelephonyError
from tests.voice.call_kit import ACCOUNT_SID, AUTH_TOKEN
from voice_caller.config import VoiceSettings
from voice_caller.twilio_api import (
    RebasedHttpClient,
    TwilioTelephony,
    connect_stream_twiml,
    dial_twiml,
    hangup_twiml,
)

CALL_SID = "CA" + "f" * 32


@dataclass
class CallsApi:
    """What the loopback Calls API saw, and the failures it is told to answer with next."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    fail: list[int] = field(default_factory=list)
    lists: list[dict[str, list[str]]] = field(default_factory=list)  # the GET …/Calls.json queries
    created: list[dict[str, Any]] = field(default_factory=list)


def _handler(api: CallsApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            api.requests.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization")})
            expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            if api.fail:
                status = api.fail.pop(0)
                self._reply(status, {"code": 20429 if status == 429 else 20500, "message": "try later",
                                     "status": status})
                return
            base = f"/prefix/2010-04-01/Accounts/{ACCOUNT_SID}/Calls"
            if self.path == base + ".json":
                call = {"sid": CALL_SID, "status": "queued", "to": form["To"][0], "from": form["From"][0],
                        "date_created": formatdate(usegmt=True), "start_time": None}
                api.created.append(call)
                self._reply(201, call)
            elif self.path == f"{base}/{CALL_SID}.json":
                self._reply(200, {"sid": CALL_SID, "status": form.get("Status", ["in-progress"])[0]})
            else:
                self._reply(404, {"code": 20404, "message": "not found", "status": 404})

        def do_GET(self) -> None:  # the Calls list, filtered by To and From (the full filter is in gridreach_fakes)
            path, _, query = self.path.partition("?")
            params = parse_qs(query)
            api.lists.append(params)
            calls = [c for c in api.created if params.get("To", [c["to"]]) == [c["to"]]
                     and params.get("From", [c["from"]]) == [c["from"]]]
            self._reply(200, {"calls": calls, "page": 0, "page_size": 50, "start": 0, "end": len(calls),
                              "uri": path, "first_page_uri": path, "next_page_uri": None,
                              "previous_page_uri": None})

    return Handler


@pytest.fixture
def calls_api() -> Iterator[tuple[CallsApi, str]]:
    api = CallsApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api, f"http://127.0.0.1:{server.server_address[1]}/prefix"
    finally:
        server.shutdown()
        server.server_close()


def settings(base: str, **changes: Any) -> VoiceSettings:
    values: dict[str, Any] = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN,
                              "public_base_url": "https://voice.example.org", "from_number": "+8657100000000",
                              "api_base_url": base, **changes}
    return VoiceSettings(**values)


def telephony(base: str, sleeps: list[float] | None = None, **changes: Any) -> TwilioTelephony:
    return TwilioTelephony(settings(base, **changes), retries=2, backoff=0.5,
                           sleep=(sleeps.append if sleeps is not None else lambda _: None))


def test_the_base_url_replaces_twilios_host_keeping_the_path() -> None:
    client = RebasedHttpClient("http://127.0.0.1:9/prefix")
    assert client.rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?x=1") == \
        "http://127.0.0.1:9/prefix/2010-04-01/Accounts/AC1/Calls.json?x=1"


def test_placing_a_call_sends_the_documented_parameters(calls_api: tuple[CallsApi, str]) -> None:
    api, base = calls_api
    placed = telephony(base).place_call_sync("+8613900139000", "https://voice.example.org/voice/twiml?attempt=3",
                                             "https://voice.example.org/voice/status?attempt=3")
    assert (placed.sid, placed.status, placed.tries) == (CALL_SID, "queued", 1)
    form = api.requests[0]["form"]
    assert form["To"] == ["+8613900139000"] and form["From"] == ["+8657100000000"]
    assert form["Url"] == ["https://voice.example.org/voice/twiml?attempt=3"] and form["Method"] == ["POST"]
    assert form["StatusCallback"] == ["https://voice.example.org/voice/status?attempt=3"]
    assert sorted(form["StatusCallbackEvent"]) == sorted(["initiated", "ringing", "answered", "completed"])
    assert form["MachineDetection"] == ["Enable"]


def test_machine_detection_can_be_switched_off(calls_api: tuple[CallsApi, str]) -> None:
    api, base = calls_api
    telephony(base, machine_detection=False).place_call_sync("+8613900139000", "https://x.org/t", "https://x.org/s")
    assert "MachineDetection" not in api.requests[0]["form"]


def test_429_and_5xx_are_retried_with_growing_backoff(calls_api: tuple[CallsApi, str]) -> None:
    api, base = calls_api
    api.fail = [429, 503]
    sleeps: list[float] = []
    placed = telephony(base, sleeps).place_call_sync("+8613900139000", "https://x.org/t", "https://x.org/s")
    assert placed.tries == 3 and len(api.requests) == 3
    assert sleeps == [0.5, 1.0]
    assert len(api.lists) == 2  # after the 503 (which may have created the call) it was looked up first


def test_retries_are_bounded_then_the_error_says_so(calls_api: tuple[CallsApi, str]) -> None:
    api, base = calls_api
    api.fail = [429] * 10
    with pytest.raises(TelephonyError) as caught:
        telephony(base).place_call_sync("+8613900139000", "https://x.org/t", "https://x.org/s")
    assert len(api.requests) == 3  # the first try + 2 retries
    assert caught.value.status == 429 and caught.value.retryable


def test_a_refused_request_is_not_retried(calls_api: tuple[CallsApi, str]) -> None:
    api, base = calls_api
    wrong = TwilioTelephony(settings(base, auth_token="wrong-token"), retries=3, sleep=lambda _: None)
    with pytest.raises(TelephonyError) as caught:
        wrong.place_call_sync("+8613900139000", "https://x.org/t", "https://x.org/s")
    assert len(api.requests) == 1 and caught.value.status == 401 and not caught.value.retryable
    assert "wrong-token" not in str(caught.value)


def test_an_unreachable_api_is_a_retryable_telephony_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps: list[float] = []
    with pytest.raises(TelephonyError) as caught:
        telephony(f"http://127.0.0.1:{port}", sleeps).place_call_sync("+8613900139000", "https://x/t", "https://x/s")
    assert caught.value.retryable and len(sleeps) == 2


async def test_transfer_redirects_the_call_to_a_dial_and_hangup_completes_it(
        calls_api: tuple[CallsApi, str]) -> None:
    api, base = calls_api
    phone = telephony(base)
    await phone.transfer(CALL_SID, "+8613800138000")
    await phone.hangup(CALL_SID)
    redirect, hangup = api.requests[0], api.requests[1]
    assert redirect["path"].endswith(f"/Calls/{CALL_SID}.json")
    assert "<Dial" in redirect["form"]["Twiml"][0] and "+8613800138000</Dial>" in redirect["form"]["Twiml"][0]
    assert hangup["form"] == {"Status": ["completed"]}


async def test_a_failed_transfer_is_a_telephony_error(calls_api: tuple[CallsApi, str]) -> None:
    api, base = calls_api
    api.fail = [500]
    with pytest.raises(TelephonyError):
        await telephony(base).transfer(CALL_SID, "+8613800138000")


def test_twiml_documents() -> None:
    twiml = connect_stream_twiml("wss://voice.example.org/voice/stream", {"attempt": "12"})
    assert twiml.endswith(
        '<Response><Connect><Stream url="wss://voice.example.org/voice/stream">'
        '<Parameter name="attempt" value="12" /></Stream></Connect></Response>'
    )
    assert '<Dial callerId="+8657100000000">+8613800138000</Dial>' in dial_twiml("+8613800138000", "+8657100000000")
    assert hangup_twiml().endswith("<Response><Hangup /></Response>")
