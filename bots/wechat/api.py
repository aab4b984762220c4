"""The only module that imports wechatpy: callback signatures, safe-mode crypto, XML parsing, replies, API clients.

WeChat's documented rules, implemented with wechatpy:

* plaintext mode: ``signature = sha1(sorted(token, timestamp, nonce))``; the body is not signed, so a callback whose
  timestamp is far from our clock is refused too, and a (timestamp, nonce) seen before with another body is a replay
  (``replay_key``: the caller remembers it for the window, ``gridreach.store`` ``remember_nonce``);
* safe mode (``encrypt_type=aes``): the body is ``<xml><ToUserName/><Encrypt/></xml>``, ``msg_signature =
  sha1(sorted(token, timestamp, nonce, Encrypt))``; Encrypt is AES-256-CBC (key = EncodingAESKey, IV = its first
  16 bytes, PKCS#7 to 32 bytes) over ``random(16) + len(msg) (4 bytes, network order) + msg + AppID``; our passive
  reply is encrypted and signed the same way.

Signatures are compared here, in constant time (``hmac.compare_digest``), before wechatpy sees the callback (its
own checks use ``!=``). Every wechatpy / requests exception is translated into the channel errors of
``gridreach.errors``; WeChat's error codes are read here (``refusal``).
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import hmac
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import requests
import xmltodict
from wechatpy import parse_message
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.client import WeChatClient as WeComClient
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException, WeChatClientException
from wechatpy.replies import TextReply

from bots.wechat.config import OfficialAccountSettings, WeComSettings
from gridreach.errors import ChannelUnavailable, ForgedRequest, MalformedRequest, RateLimited, Refused

__all__ = [
    "BadRobotKey",
    "CallbackCodec",
    "Inbound",
    "OfficialAccountAPI",
    "ServiceLimitReached",
    "ServiceWindowClosed",
    "WeComAppAPI",
    "refusal",
]

_KINDS = {"text", "image", "voice", "video", "shortvideo", "location", "link", "event"}


@dataclass(frozen=True)
class Inbound:
    """One callback from WeChat, channel-neutral: a user message or an event."""

    kind: str  # text | image | voice | video | shortvideo | location | link | event | other
    openid: str
    account: str  # our account's original id (ToUserName)
    create_time: int
    msg_id: str | None = None
    content: str | None = None
    event: str | None = None  # subscribe | unsubscribe | click | view | scan | ...
    event_key: str | None = None
    recognition: str | None = None  # speech recognition of a voice message, when the account has it on

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; FromUserName + CreateTime (+ event) for events, which carry no MsgId."""
        if self.msg_id:
            return self.msg_id
        return f"{self.openid}:{self.create_time}:{self.event or self.kind}"


class CallbackCodec:
    """Checks, decrypts and parses callbacks; renders (and in safe mode encrypts) passive replies."""

    def __init__(self, settings: OfficialAccountSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._clock = clock
        self._crypto = (
            WeChatCrypto(settings.token, settings.encoding_aes_key, settings.app_id) if settings.safe_mode else None
        )

    def verify_url(self, query: Mapping[str, str]) -> str:
        """The GET that WeChat sends when the URL is configured: answer ``echostr`` if ``signature`` is ours."""
        self._check_plain_signature(query)
        echo = query.get("echostr")
        if not echo:
            raise MalformedRequest("echostr is missing")
        return echo

    def check_query(self, query: Mapping[str, str]) -> None:
        """What can be checked before the body is read: the clock and ``signature`` (WeChat sends it in every mode,
        safe mode too). ``ForgedRequest`` when either is wrong; ``open`` checks everything again, body included."""
        self._check_clock(query)
        self._check_plain_signature(query)

    def open(self, query: Mapping[str, str], body: bytes,
             fresh: Callable[[str, str], bool] | None = None) -> Inbound:
        """Check and parse a POSTed callback. ``ForgedRequest`` → 403, ``MalformedRequest`` → 400.

        ``fresh(replay_key, body_hash)`` is asked once the signature is good and before the message is read: False
        (the nonce came before with another body) refuses the callback as forged."""
        self._check_clock(query)
        if query.get("encrypt_type", "raw").lower() == "aes":
            xml = self._decrypt(query, body, fresh)
        elif self._crypto is not None:
            raise ForgedRequest("a plaintext callback reached an account in safe mode")
        else:
            self._check_plain_signature(query)
            self._check_fresh(query, body, fresh)
            xml = _text(body)
        return _parse(xml)

    def replay_key(self, query: Mapping[str, str]) -> str:
        """What identifies one signed callback: its account, timestamp and nonce (hashed, fixed length)."""
        raw = "\n".join((self.settings.app_id, query.get("timestamp", ""), query.get("nonce", "")))
        return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()

    @property
    def replay_window(self) -> float:
        """Seconds a signed query stays acceptable: the clock skew allowed either side."""
        return 2 * self.settings.max_clock_skew

    def reply(self, inbound: Inbound, text: str, query: Mapping[str, str]) -> str:
        """The passive reply XML (encrypted and signed with our msg_signature in safe mode)."""
        xml = TextReply(source=inbound.account, target=inbound.openid, content=text).render()
        if self._crypto is None or query.get("encrypt_type", "raw").lower() != "aes":
            return str(xml)
        nonce = query.get("nonce") or "gridreach"
        return str(self._crypto.encrypt_message(xml, nonce, str(int(self._clock()))))

    # ---- checks ----------------------------------------------------------------------------
    def _check_clock(self, query: Mapping[str, str]) -> None:
        stamp = query.get("timestamp", "")
        if not (stamp.isascii() and stamp.isdigit()) or abs(int(stamp) - self._clock()) > self.settings.max_clock_skew:
            raise ForgedRequest("timestamp missing or too far from our clock")

    def _check_plain_signature(self, query: Mapping[str, str]) -> None:
        _require_signature(query.get("signature", ""),
                           self.settings.token, query.get("timestamp", ""), query.get("nonce", ""))

    def _check_fresh(self, query: Mapping[str, str], body: bytes,
                     fresh: Callable[[str, str], bool] | None) -> None:
        if fresh is not None and not fresh(self.replay_key(query), hashlib.sha256(body).hexdigest()):
            raise ForgedRequest("a replayed nonce with another body")

    def _decrypt(self, query: Mapping[str, str], body: bytes, fresh: Callable[[str, str], bool] | None) -> str:
        if self._crypto is None:
            raise ForgedRequest("an encrypted callback reached an account without an EncodingAESKey")
        try:
            envelope = xmltodict.parse(_text(body))["xml"]
            if not isinstance(envelope, dict) or not isinstance(envelope.get("Encrypt"), str):
                raise KeyError("Encrypt")
        except (ExpatError, KeyError, TypeError, ValueError):
            raise MalformedRequest("not a safe-mode envelope") from None
        _require_signature(query.get("msg_signature", ""), self.settings.token, query.get("timestamp", ""),
                           query.get("nonce", ""), envelope["Encrypt"])
        self._check_fresh(query, body, fresh)
        try:
            return str(
                self._crypto.decrypt_message(
                    envelope, query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
                )
            )
        except InvalidSignatureException:
            raise ForgedRequest("msg_signature does not match") from None
        except (InvalidAppIdException, ValueError, struct.error, binascii.Error, IndexError, TypeError):
            raise ForgedRequest("ciphertext does not decrypt to this account") from None


def _require_signature(given: str, *parts: str) -> None:
    """WeChat's ``sha1`` over the sorted parts, compared in constant time; ``ForgedRequest`` when it differs."""
    expected = hashlib.sha1("".join(sorted(parts)).encode("utf-8", "replace")).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace")):
        raise ForgedRequest("signature does not match")


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("body is not UTF-8") from None


def _parse(xml: str) -> Inbound:
    try:
        message: Any = parse_message(xml)
        data: dict[str, Any] = message._data if message is not None else {}
        openid, account = str(data["FromUserName"]), str(data["ToUserName"])
        create_time = int(data["CreateTime"])
        kind = str(data["MsgType"]).lower()
    except (ExpatError, KeyError, TypeError, ValueError, AttributeError):
        raise MalformedRequest("not a WeChat message") from None
    if not openid or not account:
        raise MalformedRequest("FromUserName or ToUserName is empty")
    msg_id = data.get("MsgId")
    event = data.get("Event")
    return Inbound(
        kind=kind if kind in _KINDS else "other",
        openid=openid,
        account=account,
        create_time=create_time,
        msg_id=str(msg_id) if msg_id else None,
        content=data.get("Content") if kind == "text" else None,
        event=str(event).lower() if kind == "event" and event else None,
        event_key=data.get("EventKey") if isinstance(data.get("EventKey"), str) else None,
        recognition=data.get("Recognition") if kind == "voice" else None,
    )


# ---- API clients -------------------------------------------------------------------------------
class _OAClient(WeChatClient):
    """wechatpy's client with a configurable base URL (its token URL is otherwise fixed)."""

    def __init__(self, settings: OfficialAccountSettings) -> None:
        super().__init__(settings.app_id, settings.app_secret, timeout=settings.http_timeout)
        self.API_BASE_URL = settings.api_base_url

    def fetch_access_token(self) -> dict[str, Any]:
        params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        return dict(self._fetch_access_token(url=self.API_BASE_URL + "token", params=params))


class _WeComClient(WeComClient):
    def __init__(self, settings: WeComSettings) -> None:
        super().__init__(settings.corp_id, settings.corp_secret, timeout=settings.http_timeout)
        self.API_BASE_URL = settings.api_base_url

    def fetch_access_token(self) -> dict[str, Any]:
        params = {"corpid": self.corp_id, "corpsecret": self.secret}
        return dict(self._fetch_access_token(url=self.API_BASE_URL + "gettoken", params=params))


# ---- WeChat's error codes -----------------------------------------------------------------------
class ServiceWindowClosed(Refused):
    """45015: the user has not written in the last 48 hours, or unsubscribed."""


class ServiceLimitReached(Refused):
    """45047: the customer-service message limit since the user's last message is used up."""


class BadRobotKey(Refused):
    """93000: the group robot's webhook key is invalid (the robot was removed, or the key is mistyped)."""

    def __init__(self, code: int | str | None = 93000, detail: str = "", *, message: str | None = None) -> None:
        super().__init__(code, detail, message=message or f"robot key rejected ({code})")


RATE_LIMITED = 45009  # API frequency limit (a group robot takes 20 messages a minute): wait, then send again
_REFUSALS: dict[int, type[Refused]] = {45015: ServiceWindowClosed, 45047: ServiceLimitReached, 93000: BadRobotKey}


def refusal(errcode: int, errmsg: str = "", retry_after: float = 30.0) -> RateLimited | Refused:
    """The error for an API answer with ``errcode`` (the errmsg is WeChat's, it holds no message text);
    45009 is ``RateLimited`` for ``retry_after`` seconds."""
    if errcode == RATE_LIMITED:
        return RateLimited(retry_after, f"rate limited ({errcode})")
    return _REFUSALS.get(errcode, Refused)(errcode, errmsg[:200])


def _call(fn: Callable[[], Any], retry_after: float = 30.0) -> Any:
    try:
        return fn()
    except WeChatClientException as exc:
        if exc.errcode is None:
            status = getattr(exc.response, "status_code", None)
            raise ChannelUnavailable(f"HTTP {status}") from None
        raise refusal(int(exc.errcode), str(exc.errmsg or ""), retry_after) from None
    except (requests.RequestException, ValueError) as exc:
        raise ChannelUnavailable(type(exc).__name__) from None


class OfficialAccountAPI:
    """The Official Account's customer-service messages (``message/custom/send``), off the event loop."""

    def __init__(self, settings: OfficialAccountSettings) -> None:
        self._client = _OAClient(settings)

    async def send_text(self, openid: str, text: str) -> None:
        await asyncio.to_thread(_call, lambda: self._client.message.send_text(openid, text))


class WeComAppAPI:
    """A WeCom app: messages to app group chats (``appchat/send``) and to members (``message/send``)."""

    def __init__(self, settings: WeComSettings) -> None:
        if settings.corp_id is None:
            raise ValueError("WeCom app messages need corp_id and corp_secret")
        self.settings = settings
        self._client = _WeComClient(settings)

    async def send_appchat(self, chat_id: str, text: str, markdown: bool = False) -> None:
        kind = "markdown" if markdown else "text"
        await asyncio.to_thread(_call, lambda: self._client.appchat.send(chat_id, kind, content=text),
                                self.settings.robot_window)

    async def send_to_users(self, user_ids: list[str], text: str) -> None:
        if self.settings.agent_id is None:
            raise ValueError("WeCom member messages need agent_id")
        agent = self.settings.agent_id
        await asyncio.to_thread(_call, lambda: self._client.message.send_text(agent, user_ids, text))
