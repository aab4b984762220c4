"""What the fake Twilio knows and records: the callee's behaviour, each call, each REST request and webhook,
and Twilio's SIDs and request signatures."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from gridreach_fakes.phone import Phone, Script

__all__ = ["API_VERSION", "FINAL", "Callee", "FakeCall", "RestRequest", "Webhook", "new_sid", "sign"]

API_VERSION = "2010-04-01"
FINAL = ("completed", "busy", "no-answer", "failed", "canceled")


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
