"""A fake WeChat, written from WeChat's documentation (not from wechatpy, not from ``bots.wechat``).

Two sides:

* the Official Account API on 127.0.0.1 (``api_url`` ends in ``/cgi-bin/``): ``GET token`` (AppID + AppSecret →
  access_token; 40013 bad AppID, 40125 bad AppSecret), ``POST message/custom/send`` (40001 bad or expired token;
  45015 "response out of time limit or subscription is canceled" when the user has not written in 48 h;
  45047 "out of response count limit" after ``service_limit`` messages since their last message);
* the WeChat server calling our webhook: ``text()``, ``event()``, ``image()`` build the callback XML, sign it
  (plaintext: ``signature = sha1(sorted(token, timestamp, nonce))``; safe mode: AES-256-CBC with the EncodingAESKey,
  IV = key[:16], PKCS#7 to 32 bytes over ``random(16) + len (4 bytes, network order) + msg + AppID``, in an
  ``<xml><ToUserName/><Encrypt/></xml>`` envelope with ``msg_signature = sha1(sorted(token, timestamp, nonce,
  Encrypt))``), POST it, retry with the same MsgId when no answer comes within ``reply_timeout`` (3 tries in all),
  and decrypt and verify an encrypted reply.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import struct
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["Delivery", "FakeWeChat", "LoopbackServer", "aes_decrypt", "aes_encrypt", "sha1_signature"]

Handler = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, Any]]]


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 answering JSON from ``handler(method, path, query, body)``."""

    def __init__(self, handler: Handler) -> None:
        outer = handler

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = outer(method, url.path, query, body)
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def aes_encrypt(aes_key: str, app_id: str, message: str) -> str:
    key = base64.b64decode(aes_key + "=")
    plain = os.urandom(16) + struct.pack(">I", len(message.encode())) + message.encode() + app_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def aes_decrypt(aes_key: str, app_id: str, encrypted: str) -> str:
    key = base64.b64decode(aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain[-pad:] == bytes([pad]) * pad, "bad PKCS#7 padding (block size 32)"
    plain = plain[16:-pad]
    (length,) = struct.unpack(">I", plain[:4])
    message, tail = plain[4 : 4 + length], plain[4 + length :]
    assert tail.decode() == app_id, "the reply is not encrypted for our AppID"
    return message.decode("utf-8")


@dataclass
class Delivery:
    """What our webhook answered to one callback (after WeChat's retries)."""

    status: int | None
    body: str
    attempts: int
    msg_id: str | None
    reply: dict[str, str] = field(default_factory=dict)  # the (decrypted, verified) reply XML's fields

    @property
    def text(self) -> str | None:
        return self.reply.get("Content")

    @property
    def empty(self) -> bool:
        return self.status == 200 and self.body in ("", "success")


class FakeWeChat:
    def __init__(self, token: str, app_id: str, app_secret: str, aes_key: str | None = None,
                 account: str = "gh_fakeaccount01", reply_timeout: float = 5.0, service_limit: int = 5) -> None:
        self.token, self.app_id, self.app_secret, self.aes_key = token, app_id, app_secret, aes_key
        self.account = account
        self.reply_timeout = reply_timeout
        self.service_limit = service_limit
        self.offset = 0.0  # seconds added to the clock (the 48 h window without waiting)
        self.sent: list[tuple[str, str]] = []  # (openid, text) of accepted customer-service messages
        self.refused: list[tuple[str, int]] = []
        self.callbacks: list[dict[str, str]] = []  # the query strings of every POST we made (tries included)
        self._tokens: set[str] = set()
        self._users: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()
        start = 10**18 + secrets.randbelow(10**18)  # MsgIds are unique across all of WeChat
        self._msg_ids = iter(range(start, start + 10**9))
        self._server = LoopbackServer(self._handle)
        self.api_url = self._server.url + "/cgi-bin/"
        self.webhook_url = ""

    def close(self) -> None:
        self._server.close()

    def now(self) -> float:
        return time.time() + self.offset

    def invalidate_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # ---- the API ----------------------------------------------------------------------------
    def _handle(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if method == "GET" and path == "/cgi-bin/token":
            if query.get("grant_type") != "client_credential" or query.get("appid") != self.app_id:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != self.app_secret:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            token = secrets.token_urlsafe(24)
            with self._lock:
                self._tokens.add(token)
            return 200, {"access_token": token, "expires_in": 7200}
        if method == "POST" and path == "/cgi-bin/message/custom/send":
            return 200, self._custom_send(query, body)
        return 404, {"errcode": 404, "errmsg": "not found"}

    def _custom_send(self, query: dict[str, str], body: bytes) -> dict[str, Any]:
        with self._lock:
            if query.get("access_token") not in self._tokens:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            try:
                data = json.loads(body)
                openid, text = data["touser"], data["text"]["content"]
                assert data["msgtype"] == "text"
            except (ValueError, KeyError, TypeError, AssertionError):
                return {"errcode": 47001, "errmsg": "data format error"}
            user = self._users.get(openid)
            if user is None or self.now() - user["last"] > 48 * 3600:
                self.refused.append((openid, 45015))
                return {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            if user["count"] >= self.service_limit:
                self.refused.append((openid, 45047))
                return {"errcode": 45047, "errmsg": "out of response count limit"}
            user["count"] += 1
            self.sent.append((openid, text))
            return {"errcode": 0, "errmsg": "ok"}

    def sent_to(self, openid: str) -> list[str]:
        with self._lock:
            return [text for who, text in self.sent if who == openid]

    # ---- the WeChat server calling us --------------------------------------------------------
    def text(self, openid: str, content: str, msg_id: str | None = None) -> Delivery:
        msg_id = msg_id or str(next(self._msg_ids))
        return self._deliver(openid, "text", f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>",
                             msg_id)

    def image(self, openid: str) -> Delivery:
        msg_id = str(next(self._msg_ids))
        return self._deliver(openid, "image", f"<PicUrl><![CDATA[http://127.0.0.1/p.jpg]]></PicUrl>"
                             f"<MediaId><![CDATA[m1]]></MediaId><MsgId>{msg_id}</MsgId>", msg_id)

    def event(self, openid: str, event: str, key: str | None = None, create_time: int | None = None) -> Delivery:
        extra = f"<Event><![CDATA[{event}]]></Event>"
        if key is not None:
            extra += f"<EventKey><![CDATA[{key}]]></EventKey>"
        return self._deliver(openid, "event", extra, None, create_time)

    def message_xml(self, openid: str, kind: str, extra: str, create_time: int | None = None) -> str:
        return (f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time or int(self.now())}"
                f"</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{extra}</xml>")

    def signed(self, xml: str) -> tuple[dict[str, str], bytes]:
        """The query string and body WeChat would POST for ``xml`` (encrypted in safe mode)."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        query = {"signature": sha1_signature(self.token, timestamp, nonce), "timestamp": timestamp,
                 "nonce": nonce, "openid": _openid_of(xml)}
        if self.aes_key is None:
            return query, xml.encode("utf-8")
        encrypted = aes_encrypt(self.aes_key, self.app_id, xml)
        query.update(encrypt_type="aes", msg_signature=sha1_signature(self.token, timestamp, nonce, encrypted))
        body = f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        return query, body.encode("utf-8")

    def post(self, query: dict[str, str], body: bytes, timeout: float | None = None) -> httpx.Response:
        self.callbacks.append(dict(query))
        return httpx.post(self.webhook_url, params=query, content=body, timeout=timeout or self.reply_timeout,
                          headers={"Content-Type": "text/xml"})

    def _deliver(self, openid: str, kind: str, extra: str, msg_id: str | None,
                 create_time: int | None = None) -> Delivery:
        xml = self.message_xml(openid, kind, extra, create_time)
        with self._lock:  # a user message (or follow, click) opens the 48 h window afresh
            if not (kind == "event" and "unsubscribe" in extra):
                self._users[openid] = {"last": self.now(), "count": 0}
            else:
                self._users.pop(openid, None)
        for attempt in range(1, 4):
            query, body = self.signed(xml)  # each try is signed afresh; the MsgId stays the same
            try:
                answer = self.post(query, body)
            except httpx.TimeoutException:
                continue
            return Delivery(answer.status_code, answer.text, attempt, msg_id,
                            self._open_reply(answer.text, openid) if answer.status_code == 200 else {})
        return Delivery(None, "", 3, msg_id)

    def _open_reply(self, body: str, openid: str) -> dict[str, str]:
        if body in ("", "success"):
            return {}
        root = ET.fromstring(body)
        fields = {child.tag: (child.text or "") for child in root}
        if self.aes_key is not None:
            assert "Encrypt" in fields, "a safe-mode account must answer encrypted"
            expected = sha1_signature(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
            assert fields["MsgSignature"] == expected, "the reply's MsgSignature is wrong"
            inner = aes_decrypt(self.aes_key, self.app_id, fields["Encrypt"])
            fields = {child.tag: (child.text or "") for child in ET.fromstring(inner)}
        assert fields.get("ToUserName") == openid and fields.get("FromUserName") == self.account, fields
        assert fields.get("MsgType") == "text", fields
        return fields


def _openid_of(xml: str) -> str:
    node = ET.fromstring(xml).find("FromUserName")
    return "" if node is None or node.text is None else node.text
