"""The WeChat Official Account (``OFFICIAL_ACCOUNT``) and the WeCom groups (``WECOM``) as GridReach connectors:
their settings (``bots.wechat.config``), what they run under `gridreach serve`, a text or question to one
resident (the Official Account), a notice to a grid's groups (WeCom group robots and app chats).

Importing this module imports neither Rasa nor wechatpy: ``start`` and the outbox methods do.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bots.wechat.config import (
    APPCHAT,
    OA_ENV_KEYS,
    ROBOT,
    WECOM_ENV_KEYS,
    OfficialAccountSettings,
    WeComSettings,
    robots_from_env,
)
from gridreach.connector import (
    Announced,
    NoticeQueued,
    Outgoing,
    Serving,
    Started,
    WithoutGroups,
    read_section,
)
from gridreach.errors import ConfigError, RecipientGone
from gridreach.store import Store
from gridreach.views import ChatGroupView

__all__ = ["CALLBACK_PATH", "OFFICIAL_ACCOUNT", "WECOM", "WECOM_MAX_BYTES", "OfficialAccountConnector",
           "WeComConnector"]

CALLBACK_PATH = "/webhooks/wechat"  # as under `rasa run`
WECOM_MAX_BYTES = 4096  # a WeCom markdown message


class OfficialAccountConnector(WithoutGroups):
    """Residents talk to the account; its notices reach them through the WeCom groups (``WECOM``)."""

    name = "wechat"
    aliases: tuple[str, ...] = ("bots.wechat.WeChatInput",)
    outbox_channels: tuple[str, ...] = ()  # customer-service messages are drained by `serve`, not by notices

    def read_settings(self, section: Mapping[str, Any] | None, env: Mapping[str, str], home: Path,
                      where: str) -> OfficialAccountSettings | None:
        return read_section(OA_ENV_KEYS, section, env, where,
                            OfficialAccountSettings.from_mapping)

    async def start(self, serving: Serving, settings: OfficialAccountSettings) -> Started:
        from bots.wechat.channel import OfficialAccount

        account = OfficialAccount.build(serving.store, serving.dialogue, settings,
                                        production=serving.settings.production)
        mode = "safe mode" if settings.safe_mode else "plaintext"

        async def send(account_id: str, message: Outgoing) -> None:
            """Queue a customer-service message (sent by the loop within the 48 h window); ``RecipientGone`` when
            the resident opted out of WeChat."""
            if await asyncio.to_thread(_opted_out, serving.store, account_id):
                raise RecipientGone("the resident opted out of wechat")
            lines = [message.text, *(f"{i}. {c}" for i, c in enumerate(message.choices, 1))]
            await asyncio.to_thread(account.service.enqueue, account_id, "\n".join(lines), f"send:{uuid.uuid4().hex}")
            await account.service.drain()

        return Started(f"callback {serving.base_url}{CALLBACK_PATH}/webhook ({mode}, {settings.app_id})",
                       routes=[(account.blueprint("wechat_webhook"), CALLBACK_PATH)],
                       loops=[("wechat service messages", account.service.drain)],
                       closers=[account.bot.turns.settle],  # late replies still become customer-service messages
                       send=send)

    def announce_screening(self, store: Store, settings: Any, campaign_id: int, grid: str, title: str,
                           token: str) -> Announced:
        return Announced(f"wechat: a menu button with key CAMPAIGN:{token} starts it")


class WeComConnector:
    """Notices to a grid's WeCom groups: group robots (by name, keys in the settings) and app chats (corp_id)."""

    name = "wecom"
    aliases: tuple[str, ...] = ()
    outbox_channels: tuple[str, ...] = (ROBOT, APPCHAT)

    def read_settings(self, section: Mapping[str, Any] | None, env: Mapping[str, str], home: Path,
                      where: str) -> WeComSettings | None:
        return read_section(WECOM_ENV_KEYS, section, env, where,
                            WeComSettings.from_mapping, {"robots": robots_from_env})

    async def start(self, serving: Serving, settings: WeComSettings) -> Started:
        from bots.wechat.wecom import WeComAppChat, WeComRobot

        notifiers: list[Any] = [WeComRobot(serving.store, settings)]
        if settings.corp_id:
            notifiers.append(WeComAppChat(serving.store, settings))
        chats = "app chats on" if settings.corp_id else "app chats off (no corp_id)"
        return Started(f"{len(settings.robots)} group robot(s) configured, {chats}",
                       loops=[(f"{n.channel} outbox", n.drain) for n in notifiers])

    def reachable(self, store: Store, settings: WeComSettings | None, grid: str, title: str, body: str) -> int:
        from bots.wechat.wecom import notice_markdown

        wecom = settings or WeComSettings()
        robots, chats = store.groups_for_grid(grid, ROBOT), store.groups_for_grid(grid, APPCHAT)
        if robots or chats:
            size = len(notice_markdown(title, body).encode("utf-8"))
            if size > WECOM_MAX_BYTES:
                raise ConfigError("BODY", f"is too long for WeCom ({size} bytes with its title; at most "
                                          f"{WECOM_MAX_BYTES}): shorten it")
        return sum(g.external_id in wecom.robot_keys for g in robots) + (len(chats) if wecom.corp_id else 0)

    def queue_notice(self, store: Store, settings: WeComSettings | None, notice_id: int, grid: str,
                     body: str) -> NoticeQueued:
        from bots.wechat.wecom import WeComAppChat, WeComRobot

        wecom = settings or WeComSettings()
        result = NoticeQueued()
        if store.groups_for_grid(grid, ROBOT):
            robots = WeComRobot(store, wecom).enqueue_notice(notice_id)
            result.queued[ROBOT] = robots.queued + robots.already
            if robots.missing_keys:
                result.skipped[ROBOT] = robots.missing_keys
                result.notes.append("no webhook key configured for robot(s) " + ", ".join(robots.missing_keys)
                                    + " (GRIDREACH_WECOM_ROBOTS)")
        chats = store.groups_for_grid(grid, APPCHAT)
        if chats:
            if wecom.corp_id:
                queued = WeComAppChat(store, wecom).enqueue_notice(notice_id)
                result.queued[APPCHAT] = queued.queued + queued.already
            else:
                result.skipped[APPCHAT] = [g.external_id for g in chats]
                result.notes.append("WeCom app chats skipped: GRIDREACH_WECOM_CORP_ID / CORP_SECRET are not set")
        return result

    async def send_now(self, store: Store, settings: WeComSettings | None, timeout: float) -> list[str]:
        from bots.wechat.wecom import WeComAppChat, WeComRobot

        wecom = settings or WeComSettings()
        notifiers = [WeComRobot(store, wecom)] + ([WeComAppChat(store, wecom)] if wecom.corp_id else [])
        for notifier in notifiers:
            if await asyncio.to_thread(store.list_outbound, notifier.channel, "pending"):
                await notifier.drain_until_idle(timeout)
        return []

    def group_note(self, group: ChatGroupView, settings: WeComSettings | None) -> str:
        wecom = settings or WeComSettings()
        if group.channel == ROBOT and group.external_id not in wecom.robot_keys:
            return "no webhook key configured"
        if group.channel == APPCHAT and not wecom.corp_id:
            return "WeCom app not configured"
        return ""

    def announce_screening(self, store: Store, settings: Any, campaign_id: int, grid: str, title: str,
                           token: str) -> None:
        return None


OFFICIAL_ACCOUNT = OfficialAccountConnector()
WECOM = WeComConnector()


def _opted_out(store: Store, openid: str) -> bool:
    resident = store.resident_by_identity("wechat", openid)
    return resident is not None and store.has_opted_out(resident.id, "wechat")
