"""The Telegram group bot as a GridReach connector (``CONNECTOR``): its settings (``bots.telegram.config``), its
webhook or polling under `gridreach serve`, a text or question to one resident, a notice to a grid's groups.

Importing this module imports neither Rasa nor python-telegram-bot: ``start`` and ``send_now`` do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from bots.telegram.config import ENV_KEYS, TelegramSettings
from gridreach.connector import Announced, NoticeQueued, Outgoing, Serving, Started, read_section
from gridreach.errors import MalformedRequest, RecipientGone
from gridreach.store import Store
from gridreach.views import ChatGroupView

__all__ = ["CONNECTOR", "WEBHOOK_PATH", "TelegramConnector"]

WEBHOOK_PATH = "/webhooks/telegram_gridreach"  # as under `rasa run`


class TelegramConnector:
    name = "telegram"
    aliases: tuple[str, ...] = ("bots.telegram.TelegramInput",)
    outbox_channels: tuple[str, ...] = ("telegram",)

    def read_settings(self, section: Mapping[str, Any] | None, env: Mapping[str, str], home: Path,
                      where: str) -> TelegramSettings | None:
        return read_section(ENV_KEYS, section, env, where, TelegramSettings.from_mapping)

    async def start(self, serving: Serving, settings: TelegramSettings) -> Started:
        from bots.telegram.channel import webhook_blueprint
        from bots.telegram.runtime import TelegramRuntime

        runtime = TelegramRuntime(settings, serving.store, serving.dialogue)
        if settings.mode == "polling":
            status = f"polling getUpdates as @{settings.bot_username}"
        else:
            hook = f"setWebhook {settings.webhook_url}" if settings.webhook_url else "webhook not registered by us"
            status = f"webhook {serving.base_url}{WEBHOOK_PATH}/webhook ({hook})"
        # the blueprint's listeners start and stop the bot with the web server
        return Started(status, routes=[(webhook_blueprint(runtime), WEBHOOK_PATH)], send=_sender(runtime))

    def reachable(self, store: Store, settings: TelegramSettings | None, grid: str, title: str, body: str) -> int:
        return len(store.groups_for_grid(grid, "telegram"))

    def queue_notice(self, store: Store, settings: TelegramSettings | None, notice_id: int, grid: str,
                     body: str) -> NoticeQueued:
        from bots.telegram.broadcast import enqueue_notice

        result = NoticeQueued()
        if store.groups_for_grid(grid, "telegram"):
            result.queued["telegram"] = enqueue_notice(store, notice_id, grid, body)
            if settings is None:
                result.notes.append("Telegram is not configured here: a `gridreach serve` with Telegram sends them")
        return result

    async def send_now(self, store: Store, settings: TelegramSettings | None, timeout: float) -> list[str]:
        from bots.telegram.api import TelegramApi
        from bots.telegram.sender import Sender
        from gridreach.errors import GridReachError

        if settings is None:
            if await asyncio.to_thread(store.list_outbound, "telegram", "pending"):
                return ["telegram: not configured here, its messages stay queued"]
            return []
        api = TelegramApi(settings)
        try:
            await api.start()
            await Sender(store, api, settings).drain_until_idle(timeout)
        except GridReachError as exc:
            return [f"telegram: {exc}"]
        finally:
            await api.close()
        return []

    def group_note(self, group: ChatGroupView, settings: TelegramSettings | None) -> str:
        return "Telegram not configured here" if group.channel == "telegram" and settings is None else ""

    def announce_screening(self, store: Store, settings: TelegramSettings | None, campaign_id: int, grid: str,
                           title: str, token: str) -> Announced:
        """The campaign's deep link posted to the grid's groups."""
        from bots.telegram.broadcast import enqueue_screening

        if settings is None:
            return Announced("telegram: not configured here, no link posted")
        chats = enqueue_screening(store, campaign_id, grid, title, settings.bot_username, "zh")
        link = f"https://t.me/{settings.bot_username}?start={token}"
        return Announced(f"telegram: link {link}, queued for {len(chats)} group(s)", tuple(chats))


def _sender(runtime: Any) -> Callable[[str, Outgoing], Awaitable[None]]:
    async def send(account: str, message: Outgoing) -> None:
        """Send to one resident's private chat now (a 5xx leaves it in the outbox); ``RecipientGone`` when they
        opted out of Telegram, ``MalformedRequest`` when ``account`` is not a chat id."""
        try:
            chat_id = int(account)
        except ValueError:
            raise MalformedRequest(f"not a Telegram chat id: {account!r}") from None
        if await asyncio.to_thread(_opted_out, runtime.store, account):
            raise RecipientGone("the resident opted out of telegram")
        markup = None
        if message.choices:
            markup = {"keyboard": [[{"text": c}] for c in message.choices], "one_time_keyboard": True,
                      "resize_keyboard": True}
        await runtime.sender.send_now(chat_id, message.text, markup)

    return send


def _opted_out(store: Store, account: str) -> bool:
    resident = store.resident_by_identity("telegram", account)
    return resident is not None and store.has_opted_out(resident.id, "telegram")


CONNECTOR = TelegramConnector()
