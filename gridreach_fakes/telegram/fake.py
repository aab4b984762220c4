"""The fake Telegram server: its lifecycle, what tests read, the users tests play, and delivering their Updates
to the bot (webhook POST or the getUpdates queue)."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

import httpx

from gridreach_fakes.telegram.methods import BotApiMethods
from gridreach_fakes.telegram.wire import ApiError, Window, handler

__all__ = ["FakeTelegram"]


class FakeTelegram(BotApiMethods):
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
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler(token, self.call))
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
            hook = self._queue_unless_hooked(update)
        return None if hook is None else self.post_to_webhook(update, hook.get("secret_token"))

    def _queue_unless_hooked(self, update: dict[str, Any]) -> dict[str, Any] | None:
        """The webhook to POST ``update`` to, or None after queueing it for getUpdates (called holding ``changed``)."""
        hook = dict(self.webhook)
        if hook:
            return hook
        self._queue.append(update)
        self.changed.notify_all()
        return None

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
            hook = self._queue_unless_hooked(update)
        return None if hook is None else self.post_to_webhook(update, hook.get("secret_token"))

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
