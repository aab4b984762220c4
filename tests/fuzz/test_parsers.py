"""Fuzzing every parser that reads what arrives from outside: Telegram updates, WeChat callbacks (plaintext and
safe mode, signed so that the parser behind the signature is reached) and Twilio's webhook signatures (the voice
server's form reader, webhooks and Media Streams frames: test_voice_wire.py). Whatever arrives, the outcome is a parsed value or the parser's own "malformed" / "forged" answer: never
another exception (which a webhook would turn into a 500 and a retry storm).

In CI each parser gets ``GRIDREACH_FUZZ_EXAMPLES`` examples (default 300). ``make fuzz`` runs every parser for
``GRIDREACH_FUZZ_SECONDS`` in all (default 600), drawing fresh examples until its share of the time is used up.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.telegram.updates import MalformedUpdate, parse_update
from bots.wechat.api import CallbackCodec
from bots.wechat.config import OfficialAccountSettings
from gridreach.errors import ForgedRequest, MalformedRequest
from voice_caller.config import VoiceSettings
from voice_caller.signature import SignatureChecker

EXAMPLES = int(os.environ.get("GRIDREACH_FUZZ_EXAMPLES", "300"))
SECONDS = float(os.environ.get("GRIDREACH_FUZZ_SECONDS", "0"))
PARSERS = 5  # the tests below: each gets SECONDS / PARSERS when SECONDS is set
NOW = 1_780_000_000

_RUN = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])

#: Keys the parsers look for, so that generated objects reach past the first check.
KEYS = ["update_id", "message", "edited_message", "callback_query", "my_chat_member", "chat", "id", "type", "title",
        "from", "text", "data", "contact", "phone_number", "user_id", "first_name", "language_code", "message_id",
        "migrate_to_chat_id", "migrate_from_chat_id", "new_chat_member", "status", "event", "start", "media",
        "payload", "streamSid", "callSid", "accountSid", "customParameters", "mark", "name", "dtmf", "digit",
        "sequenceNumber", "track", "chunk", "timestamp", "mediaFormat", "tracks", "stop", "protocol", "version"]
scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True)
           | st.text(max_size=40) | st.sampled_from(["message", "start", "media", "mark", "dtmf", "stop", "private",
                                                    "group", "supergroup", "inbound", "1", "/start x", "+8613900139000"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=6), max_leaves=30)


def fuzz(check: Callable[..., None], *strategies: Any) -> None:
    """Run ``check`` on generated examples: ``EXAMPLES`` of them, or fresh batches for this parser's time share."""
    count = [0]

    def counted(args: tuple[Any, ...]) -> None:
        count[0] += 1
        check(*args)

    prop = _RUN(given(st.tuples(*strategies))(counted))
    started = time.monotonic()
    prop()
    while time.monotonic() < started + SECONDS / PARSERS:
        prop()  # no example database and random seeds: every batch draws new examples
    print(f"\n{check.__name__.strip('_')}: {count[0]} inputs in {time.monotonic() - started:.0f} s, no crash")


# ---- Telegram ----------------------------------------------------------------------------------------------------
def _telegram(update: Any) -> None:
    with contextlib.suppress(MalformedUpdate):
        parse_update(update)


def test_telegram_updates() -> None:
    fuzz(_telegram, json_values | st.dictionaries(st.just("update_id"), st.integers(), min_size=1).flatmap(
        lambda base: json_values.map(lambda v: {**base, "message": v} if isinstance(v, dict) else base)))


# ---- WeChat ------------------------------------------------------------------------------------------------------
TOKEN, APP_ID = "gridreach", "wx1234567890abcdef"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")


def _codec(safe: bool) -> CallbackCodec:
    return CallbackCodec(OfficialAccountSettings(app_id=APP_ID, token=TOKEN, app_secret="secret",
                                                 encoding_aes_key=AES_KEY if safe else None), clock=lambda: NOW)


def _sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


PLAIN, SAFE = _codec(False), _codec(True)
xml_bodies = st.builds(
    lambda fields, junk: ("<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + junk + "</xml>"),
    st.dictionaries(st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId",
                                     "Event", "EventKey", "Recognition", "Encrypt"]),
                    st.text(max_size=20) | st.sampled_from(["text", "event", "voice", "1700000000", "<![CDATA[x]]>"]),
                    max_size=8),
    st.text(max_size=20) | st.just("<a><b>") | st.just("<!DOCTYPE x [<!ENTITY e 'x'>]>"))


def _wechat_plain(body: Any, nonce: str) -> None:
    query = {"timestamp": str(NOW), "nonce": nonce, "signature": _sign(TOKEN, str(NOW), nonce)}
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    with contextlib.suppress(ForgedRequest, MalformedRequest):
        PLAIN.open(query, raw)


def _wechat_safe(encrypt: str, nonce: str, query: dict[str, str]) -> None:
    signed = {"timestamp": str(NOW), "nonce": nonce, "encrypt_type": "aes",
              "msg_signature": _sign(TOKEN, str(NOW), nonce, encrypt), **query}
    body = f"<xml><ToUserName>{APP_ID}</ToUserName><Encrypt>{encrypt}</Encrypt></xml>".encode()
    with contextlib.suppress(ForgedRequest, MalformedRequest):
        SAFE.open(signed, body)


def test_wechat_plaintext_callbacks() -> None:
    fuzz(_wechat_plain, xml_bodies | st.binary(max_size=300), st.text(alphabet="0123456789abc", max_size=12))


def test_wechat_safe_mode_callbacks() -> None:
    b64 = st.binary(max_size=120).map(lambda b: base64.b64encode(b).decode())
    fuzz(_wechat_safe, b64 | st.text(alphabet="ABCDEFabcdef0123456789+/=", max_size=80),
         st.text(alphabet="0123456789", max_size=10),
         st.dictionaries(st.sampled_from(["timestamp", "nonce", "msg_signature", "encrypt_type"]),
                         st.text(max_size=12), max_size=2))


# ---- Twilio ------------------------------------------------------------------------------------------------------
CHECKER = SignatureChecker(VoiceSettings(account_sid="AC" + "0" * 32, auth_token="f" * 32,
                                         public_base_url="https://voice.example.org/gr/",
                                         from_number="+8657100000000"))


def _twilio(path: str, form: dict[str, str], signature: str | None) -> None:
    with contextlib.suppress(ForgedRequest):
        CHECKER.check(CHECKER.webhook_url(path), form, signature)


def test_twilio_webhook_signatures() -> None:
    fuzz(_twilio, st.text(max_size=40).map(lambda p: "/voice/status?" + p),
         st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=6),
         st.none() | st.text(max_size=40) | st.binary(max_size=30).map(lambda b: base64.b64encode(b).decode()))


def test_twilio_json_bodies_with_a_hash() -> None:
    def twilio_json(body: str, digest: str, signature: str) -> None:
        with contextlib.suppress(ForgedRequest):
            CHECKER.check(CHECKER.webhook_url(f"/voice/events?bodySHA256={digest}"), body, signature)

    fuzz(twilio_json, st.text(max_size=100), st.text(alphabet="0123456789abcdef", max_size=64),
         st.text(max_size=40))


# ---- what fuzzing found ------------------------------------------------------------------------------------------
def test_digits_other_than_ascii_are_not_numbers() -> None:
    """"¹".isdigit() is True but int("¹") raises: a WeChat timestamp, a Content-Length, a sender id or a receipt
    button carrying such digits is refused as what it is, never a crash."""
    import asyncio

    import pytest

    from gridreach.http_body import read_capped
    from gridreach.identity import parse_sender_id

    query = {"timestamp": "¹⁷⁸", "nonce": "1", "signature": _sign(TOKEN, "¹⁷⁸", "1")}
    with pytest.raises(ForgedRequest, match="timestamp"):
        PLAIN.open(query, b"<xml/>")

    from types import SimpleNamespace

    request = SimpleNamespace(headers={"content-length": "²"}, stream=None, body=b"")
    assert asyncio.run(read_capped(request, 100)) is None
    with pytest.raises(ValueError, match="not a GridReach sender id"):
        parse_sender_id("resident-³")
