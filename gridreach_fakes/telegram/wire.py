"""The Bot API on the wire: the HTTP handler (parameters from the query string, a form or JSON, coerced to their
documented types; ``{"ok": ...}`` answers), the error a method answers with, and the sliding rate-limit window."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["ApiError", "Window", "handler"]

_INT = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "cache_time", "user_id",
        "from_chat_id", "reply_to_message_id"}
_JSON = {"reply_markup", "allowed_updates", "entities", "link_preview_options", "reply_parameters"}
_BOOL = {"disable_notification", "drop_pending_updates", "show_alert", "disable_web_page_preview",
         "protect_content"}


@dataclass
class Window:
    """At most ``count`` events in ``seconds`` (a sliding window)."""

    count: int
    seconds: float
    events: dict[Any, deque[float]] = field(default_factory=dict)

    def wait(self, key: Any, now: float) -> float:
        ev = self.events.setdefault(key, deque())
        while ev and ev[0] <= now - self.seconds:
            ev.popleft()
        return 0.0 if len(ev) < self.count else ev[-self.count] + self.seconds - now

    def add(self, key: Any, now: float) -> None:
        self.events.setdefault(key, deque()).append(now)


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def _coerce(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _JSON:
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
    if name in _INT:
        try:
            return int(value)
        except ValueError:
            return value  # @channelusername
    if name in _BOOL:
        return value.lower() == "true"
    return value


def handler(token: str, call: Callable[[str, dict[str, Any]], Any]) -> type[BaseHTTPRequestHandler]:
    """The request handler of the bot with ``token``: each Bot API request becomes ``call(method, params)``."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            segments = parts.path.strip("/").split("/")
            try:
                if len(segments) != 2 or segments[0] != f"bot{token}":
                    raise ApiError(404, "Not Found")
                params = dict(parse_qsl(parts.query))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                kind = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if body and kind == "application/json":
                    try:
                        params.update(json.loads(body))
                    except ValueError:
                        raise ApiError(400, "Bad Request: can't parse JSON") from None
                elif body:
                    params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                params = {k: _coerce(k, v) for k, v in params.items()}
                answer: dict[str, Any] = {"ok": True, "result": call(segments[1], params)}
                status = 200
            except ApiError as exc:
                status = exc.code
                answer = {"ok": False, "error_code": exc.code, "description": exc.description}
                if exc.parameters:
                    answer["parameters"] = exc.parameters
            data = json.dumps(answer, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a long poll at shutdown)
                self.close_connection = True

    return Handler
