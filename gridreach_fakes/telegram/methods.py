"""The Bot API methods the fake answers (``_api_<method>``), with the checks Telegram documents: chat state
(blocked, left, migrated), rate limits, message length, inline keyboards, webhooks and the getUpdates long poll."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from gridreach_fakes.telegram.wire import ApiError, Window

__all__ = ["BotApiMethods"]


class BotApiMethods:
    """The methods of ``FakeTelegram`` that answer Bot API calls; the state is the fake's (set up there)."""

    bot_id: int
    username: str
    limits: dict[str, Window]
    lock: threading.RLock
    changed: threading.Condition
    chats: dict[int, dict[str, Any]]
    sent: dict[int, list[dict[str, Any]]]
    callback_answers: list[dict[str, Any]]
    blocked: set[int]
    left: set[int]
    migrated: dict[int, int]
    webhook: dict[str, Any]
    _queue: list[dict[str, Any]]
    _open_queries: dict[str, int]
    _message_ids: dict[int, int]

    def _message(self, chat: dict[str, Any], sender: dict[str, Any] | None, **content: Any) -> dict[str, Any]:
        with self.lock:
            mid = self._message_ids[chat["id"]] = self._message_ids.get(chat["id"], 0) + 1
        msg = {"message_id": mid, "date": int(time.time()), "chat": chat, **content}
        if sender is not None:
            msg["from"] = sender
        return msg

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
