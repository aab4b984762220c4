"""A fake WeCom (企业微信) API on 127.0.0.1, from WeCom's documentation.

``GET gettoken`` (corpid + corpsecret; 40013 bad corpid, 40001 bad secret), ``POST appchat/send`` and
``POST message/send`` (42001/40014 bad token), and the group robot ``POST webhook/send?key=`` (93000 "invalid
webhook url" for an unknown key; 45009 "api freq out of limit" over ``per_minute`` messages in any ``window``
seconds per robot). Every accepted message is recorded.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from typing import Any

from gridreach_fakes.wechat import LoopbackServer

__all__ = ["FakeWeCom"]


class FakeWeCom:
    def __init__(self, corp_id: str = "wwfakecorp", corp_secret: str = "fake-corp-secret",
                 robot_keys: tuple[str, ...] = (), chats: tuple[str, ...] = (), per_minute: int = 20,
                 window: float = 60.0) -> None:
        self.corp_id, self.corp_secret = corp_id, corp_secret
        self.robot_keys = set(robot_keys)
        self.chats = set(chats)
        self.per_minute, self.window = per_minute, window
        self.robot_messages: dict[str, list[dict[str, Any]]] = {}
        self.appchat_messages: dict[str, list[dict[str, Any]]] = {}
        self.member_messages: list[dict[str, Any]] = []
        self.rate_limited: list[str] = []  # robot keys that got 45009
        self._recent: dict[str, deque[float]] = {}
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handle)
        self.api_url = self._server.url + "/cgi-bin/"

    def close(self) -> None:
        self._server.close()

    def used_by_others(self, key: str, count: int) -> None:
        """Someone else just sent ``count`` messages through this robot (they count against its limit)."""
        with self._lock:
            self._recent.setdefault(key, deque()).extend([time.monotonic()] * count)

    def robot_texts(self, key: str) -> list[str]:
        with self._lock:
            return [m[m["msgtype"]]["content"] for m in self.robot_messages.get(key, [])]

    def _handle(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if method == "GET" and path == "/cgi-bin/gettoken":
                if query.get("corpid") != self.corp_id:
                    return 200, {"errcode": 40013, "errmsg": "invalid corpid"}
                if query.get("corpsecret") != self.corp_secret:
                    return 200, {"errcode": 40001, "errmsg": "invalid secret"}
                token = secrets.token_urlsafe(24)
                self._tokens.add(token)
                return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                return 200, {"errcode": 47001, "errmsg": "data format error"}
            if method == "POST" and path == "/cgi-bin/webhook/send":
                return 200, self._robot(query.get("key", ""), data)
            if method == "POST" and path in ("/cgi-bin/appchat/send", "/cgi-bin/message/send"):
                if query.get("access_token") not in self._tokens:
                    return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
                if path.endswith("appchat/send"):
                    if data.get("chatid") not in self.chats:
                        return 200, {"errcode": 86003, "errmsg": "chat not exist"}
                    self.appchat_messages.setdefault(data["chatid"], []).append(data)
                else:
                    self.member_messages.append(data)
                return 200, {"errcode": 0, "errmsg": "ok"}
            return 404, {"errcode": 404, "errmsg": "not found"}

    def _robot(self, key: str, data: dict[str, Any]) -> dict[str, Any]:
        if key not in self.robot_keys:
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        kind = data.get("msgtype")
        if kind not in ("text", "markdown") or not isinstance(data.get(kind), dict) or not data[kind].get("content"):
            return {"errcode": 40008, "errmsg": "invalid message type"}
        recent = self._recent.setdefault(key, deque())
        now = time.monotonic()
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.per_minute:
            self.rate_limited.append(key)
            return {"errcode": 45009, "errmsg": "api freq out of limit"}
        recent.append(now)
        self.robot_messages.setdefault(key, []).append(data)
        return {"errcode": 0, "errmsg": "ok"}
