"""A fake Telegram Bot API server on 127.0.0.1, written from https://core.telegram.org/bots/api.

It speaks the Bot API: ``POST``/``GET`` ``/bot<token>/<method>`` with parameters in the query string,
``application/x-www-form-urlencoded`` (values of object type JSON-encoded, as the documentation says),
or a JSON body; every answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description",
"parameters"?}``. Methods: getMe, sendMessage, editMessageText, editMessageReplyMarkup, answerCallbackQuery,
getUpdates (long poll, offset confirms), setWebhook (then updates are POSTed to it with
``X-Telegram-Bot-Api-Secret-Token``), deleteWebhook, getWebhookInfo, getChat.

The documented limits are enforced (defaults are the real ones, tests may shrink them): more than 1 message/s
to one chat, 20/min to one group or 30/s overall answer 429 with ``parameters.retry_after``. Sending to a user who
blocked the bot or to a group the bot left answers 403; to a migrated group 400 with ``migrate_to_chat_id``.

Tests play the users: ``private_text``, ``group_text``, ``share_contact``, ``press``, ``edit``, ``sticker``,
``photo``, ``block_bot``, ``remove_bot``, ``migrate_group``; each builds an Update and delivers it (to the webhook,
or to the getUpdates queue). It imports nothing from ``bots`` on purpose.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

__all__ = ["FakeTelegram", "Window"]

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


class FakeTelegram:
    """One bot's Bot API. Use as a context manager; ``base_url`` is what a client's ``base_url`` should be."""

    def __init__(self, token: str = "123456:TEST-token", username: str = "gridreach_test_bot", *,
                 per_chat: tuple[int, float] = (1, 1.0), per_group: tuple[int, float] = (20, 60.0),
                 overall: tuple[int, float] = (30, 1.0)) -> None:
        self.token, self.username, self.bot_id = token, username, int(token.split(":")[0])
        self.limits = {"chat": Window(*per_chat), "group": Window(*per_group), "overall": Window(*overall)}
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.chats: dict[int, dict[str, Any]] = {}
        self.sent: dict[int, list[dict[str, Any]]] = {}  # chat id -> messages the bot sent (kept current on edit)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.rejected: list[tuple[str, int, dict[str, Any]]] = []  # (method, error code, params)
        self.callback_answers: list[dict[str, Any]] = []
        self.deliveries: list[tuple[int, int]] = []  # (update_id, webhook HTTP status)
        self.blocked: set[int] = set()  # users who blocked the bot
        self.left: set[int] = set()  # groups the bot is no longer in
        self.migrated: dict[int, int] = {}
        self.webhook: dict[str, Any] = {}
        self.updates: dict[int, dict[str, Any]] = {}  # every update given to the bot, by update_id
        self._queue: list[dict[str, Any]] = []
        self._failures: list[tuple[str, int]] = []
        self._open_queries: dict[str, int] = {}
        # update ids are Telegram's own sequence, not 1, 2, ... per test: start anywhere, as a real bot sees them
        self._next_update, self._next_query = random.randrange(1, 10**9), 1
        self._message_ids: dict[int, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._client = httpx.Client(timeout=120.0)

    # ---- lifecycle -------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def fail_next(self, method: str, status: int = 500, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``status`` (e.g. 500, 502)."""
        with self.lock:
            self._failures.extend([(method, status)] * times)

    # ---- what tests read ---------------------------------------------------------------
    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(m) for m in self.sent.get(chat_id, [])]

    def texts(self, chat_id: int) -> list[str]:
        return [m.get("text", "") for m in self.messages(chat_id)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        """Wait until ``predicate()`` holds (re-checked on every change); False after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.2))
            return True

    # ---- the people ------------------------------------------------------------------
    @staticmethod
    def user(user_id: int, first_name: str = "User", language_code: str = "zh") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}

    def group(self, chat_id: int, title: str = "Group", kind: str = "group") -> dict[str, Any]:
        with self.lock:
            chat = {"id": chat_id, "type": kind, "title": title}
            self.chats[chat_id] = chat
            self.left.discard(chat_id)
            return chat

    def open_private(self, user: dict[str, Any]) -> dict[str, Any]:
        """The user opened a private chat with the bot (the bot can write to them from now on)."""
        with self.lock:
            return self._private(user)

    def _private(self, user: dict[str, Any]) -> dict[str, Any]:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        self.chats.setdefault(user["id"], chat)
        return chat

    def _message(self, chat: dict[str, Any], sender: dict[str, Any] | None, **content: Any) -> dict[str, Any]:
        with self.lock:
            mid = self._message_ids[chat["id"]] = self._message_ids.get(chat["id"], 0) + 1
        msg = {"message_id": mid, "date": int(time.time()), "chat": chat, **content}
        if sender is not None:
            msg["from"] = sender
        return msg

    def private_text(self, user: dict[str, Any], text: str) -> int | None:
        return self.deliver(self._private_text(user, text))

    def _private_text(self, user: dict[str, Any], text: str) -> dict[str, Any]:
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith(
            "/") else None
        extra = {"entities": entities} if entities else {}
        return {"message": self._message(self._private(user), user, text=text, **extra)}

    def private_text_update(self, user: dict[str, Any], text: str) -> dict[str, Any]:
        """The Update of ``user`` typing ``text`` in their private chat, numbered and recorded but not delivered:
        a load generator (bench/chat.py) POSTs it to ``webhook["url"]`` itself, with the secret token header."""
        return self._register(self._private_text(user, text))

    def group_text(self, chat_id: int, user: dict[str, Any], text: str) -> int | None:
        return self.deliver({"message": self._message(self.chats[chat_id], user, text=text)})

    def share_contact(self, user: dict[str, Any], phone: str, owner_id: int | None = None) -> int | None:
        """The user shares a contact; by default their own (``user_id`` = theirs), as the contact button does."""
        contact = {"phone_number": phone, "first_name": user["first_name"],
                   "user_id": user["id"] if owner_id is None else owner_id}
        return self.deliver({"message": self._message(self._private(user), user, contact=contact)})

    def sticker(self, user: dict[str, Any]) -> int | None:
        sticker = {"file_id": "CAACAgIAAx", "file_unique_id": "AgAD", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}
        return self.deliver({"message": self._message(self._private(user), user, sticker=sticker)})

    def photo(self, user: dict[str, Any]) -> int | None:
        photo = [{"file_id": "AgACAgIAAx", "file_unique_id": "AQAD", "width": 90, "height": 90}]
        return self.deliver({"message": self._message(self._private(user), user, photo=photo)})

    def edit(self, user: dict[str, Any], message_id: int, text: str) -> int | None:
        msg = self._message(self._private(user), user, text=text)
        msg["message_id"], msg["edit_date"] = message_id, int(time.time())
        return self.deliver({"edited_message": msg})

    def press(self, user: dict[str, Any], message: dict[str, Any], data: str) -> int | None:
        """The user presses the inline button with ``data`` under the bot's ``message``."""
        with self.lock:
            qid = str(9_000_000 + self._next_query)
            self._next_query += 1
            self._open_queries[qid] = user["id"]
        query = {"id": qid, "from": user, "message": message, "chat_instance": str(message["chat"]["id"]),
                 "data": data}
        return self.deliver({"callback_query": query})

    def block_bot(self, user: dict[str, Any]) -> int | None:
        with self.lock:
            self.blocked.add(user["id"])
        return self.deliver({"my_chat_member": self._member_change(self._private(user), user, "member", "kicked")})

    def remove_bot(self, chat_id: int, by: dict[str, Any], status: str = "left") -> int | None:
        with self.lock:
            self.left.add(chat_id)
        return self.deliver({"my_chat_member": self._member_change(self.chats[chat_id], by, "member", status)})

    def migrate_group(self, old_id: int, new_id: int, by: dict[str, Any]) -> list[int | None]:
        """The group becomes a supergroup: Telegram posts a service message to each of the two chats."""
        with self.lock:
            old = self.chats[old_id]
            self.migrated[old_id] = new_id
            self.left.add(old_id)
        new = self.group(new_id, old.get("title", "Group"), "supergroup")
        return [self.deliver({"message": self._message(old, by, migrate_to_chat_id=new_id)}),
                self.deliver({"message": self._message(new, by, migrate_from_chat_id=old_id)})]

    def _member_change(self, chat: dict[str, Any], by: dict[str, Any], old: str, new: str) -> dict[str, Any]:
        bot = self._me()
        return {"chat": chat, "from": by, "date": int(time.time()),
                "old_chat_member": {"user": bot, "status": old},
                "new_chat_member": {"user": bot, "status": new, **({"until_date": 0} if new == "kicked" else {})}}

    # ---- delivery --------------------------------------------------------------------
    def deliver(self, update: dict[str, Any]) -> int | None:
        """Give the bot an Update: POST it to the webhook (returns the HTTP status) or queue it for getUpdates."""
        with self.changed:  # numbered and queued at once: getUpdates never sees a later id before an earlier one
            update = self._register(update)
            hook = dict(self.webhook)
            if not hook:
                self._queue.append(update)
                self.changed.notify_all()
                return None
        return self.post_to_webhook(update, hook.get("secret_token"))

    def _register(self, update: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            update = {"update_id": self._next_update, **update}
            self._next_update += 1
            self.updates[update["update_id"]] = update
            return update

    def post_to_webhook(self, update: dict[str, Any] | bytes, secret: str | None = "<configured>") -> int:
        """POST (as Telegram does) to the webhook; ``secret`` overrides the header (None: no header)."""
        with self.lock:
            hook = dict(self.webhook)
        if secret == "<configured>":
            secret = hook.get("secret_token")
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = update if isinstance(update, bytes) else json.dumps(update, ensure_ascii=False).encode()
        status = self._client.post(hook["url"], content=body, headers=headers).status_code
        with self.changed:
            uid = update.get("update_id", 0) if isinstance(update, dict) else 0
            self.deliveries.append((uid, status))
            self.changed.notify_all()
        return status

    def redeliver(self, update_id: int) -> int | None:
        """Telegram retries an update the webhook did not acknowledge: the very same update again."""
        with self.changed:
            update = self.updates[update_id]
            hook = dict(self.webhook)
            if not hook:
                self._queue.append(update)
                self.changed.notify_all()
                return None
        return self.post_to_webhook(update, hook.get("secret_token"))

    # ---- the API -----------------------------------------------------------------------
    def call(self, method: str, params: dict[str, Any]) -> Any:
        with self.changed:
            self.calls.append((method, params))
            for i, (name, status) in enumerate(self._failures):
                if name == method:
                    del self._failures[i]
                    raise ApiError(status, "Internal Server Error" if status == 500 else "Bad Gateway")
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            try:
                result = handler(params)
            except ApiError as exc:
                self.rejected.append((method, exc.code, params))
                raise
            self.changed.notify_all()
            return result

    def _me(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "GridReach", "username": self.username}

    def _api_getMe(self, params: dict[str, Any]) -> Any:
        return {**self._me(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _api_getChat(self, params: dict[str, Any]) -> Any:
        return self._chat(params)

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self.migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": self.migrated[chat_id]})
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self.chats[chat_id]

    def _check_send(self, chat: dict[str, Any]) -> None:
        cid = chat["id"]
        if cid in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if cid in self.left:
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        now = time.monotonic()
        windows = [("chat", cid), ("overall", None)] + ([("group", cid)] if chat["type"] != "private" else [])
        wait = max(self.limits[name].wait(key, now) for name, key in windows)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        for name, key in windows:
            self.limits[name].add(key, now)

    def _check_markup(self, chat: dict[str, Any], markup: Any) -> None:
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if data is None and not str(button.get("url", "")).startswith(("http://", "https://", "tg://")):
                    raise ApiError(400, "Bad Request: inline keyboard button URL is invalid")
        for row in markup.get("keyboard", []):
            for button in row:
                if isinstance(button, dict) and button.get("request_contact") and chat["type"] != "private":
                    raise ApiError(400, "Bad Request: keyboard button request_contact is allowed in private chats only")

    def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        text = params.get("text")
        if not text or not str(text).strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(str(text)) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        self._check_markup(chat, params.get("reply_markup"))
        self._check_send(chat)
        msg = self._message(chat, self._me(), text=str(text))
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        stored = dict(msg, sent_markup=markup)
        self.sent.setdefault(chat["id"], []).append(stored)
        return msg

    def _own_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        for msg in self.sent.get(chat["id"], []):
            if msg["message_id"] == params.get("message_id"):
                return msg
        raise ApiError(400, "Bad Request: message to edit not found")

    def _public(self, msg: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in msg.items() if k != "sent_markup"}

    def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        msg = self._own_message(params)
        text, markup = params.get("text"), params.get("reply_markup")
        if not text:
            raise ApiError(400, "Bad Request: text must be non-empty")
        if text == msg.get("text") and markup == msg.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        self._check_markup(msg["chat"], markup)
        msg["text"], msg["edit_date"] = text, int(time.time())
        if markup:
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)
        return self._public(msg)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        msg = self._own_message(params)
        markup = params.get("reply_markup") or None
        if markup == msg.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        self._check_markup(msg["chat"], markup)
        if markup and markup.get("inline_keyboard"):
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)
        msg["edit_date"] = int(time.time())
        return self._public(msg)

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        qid = str(params.get("callback_query_id", ""))
        if qid not in self._open_queries:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        del self._open_queries[qid]
        self.callback_answers.append(dict(params))
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return self._api_deleteWebhook(params)
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret}
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._queue)}

    def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset, limit = params.get("offset"), min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(0, int(params.get("timeout") or 0))
        if offset is not None:
            if offset < 0:
                self._queue = self._queue[offset:]
            else:
                self._queue = [u for u in self._queue if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self._queue and time.monotonic() < deadline:
            self.changed.wait(min(0.1, deadline - time.monotonic()))
        return [dict(u) for u in self._queue[:limit]]


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


def _handler(fake: FakeTelegram) -> type[BaseHTTPRequestHandler]:
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
                if len(segments) != 2 or segments[0] != f"bot{fake.token}":
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
                answer: dict[str, Any] = {"ok": True, "result": fake.call(segments[1], params)}
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
