"""Notices to WeCom (企业微信) groups: group robot webhooks and app group chats, through the outbox.

A grid's groups come from ``Store.groups_for_grid(grid, channel)``; each notice is queued once per group
(dedupe key ``notice:<id>:<group>``: nothing is sent twice, even after a restart) and sent paced at
``robot_per_minute`` per group (WeCom allows 20 a minute per robot). 45009 (rate limited) holds that group for a
window and retries (the group's later messages wait too); 93000 (bad robot key) fails the message with an audit
entry. The loop is the shared ``bots.outbox.Outbox``. Robots cannot receive replies: the
notice asks residents to reply 收到 to the Official Account, which records the receipt.

Robot keys are secrets kept in ``WeComSettings.robot_keys``; the database holds only the robot's name.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from bots.outbox import Outbox, OutboxReport
from bots.pacing import Limit, Pacer
from bots.wechat.api import WeComAppAPI, refusal
from bots.wechat.config import APPCHAT, ROBOT, WeComSettings
from campaigns.phrases import both
from gridreach.errors import ChannelUnavailable, ConfigError, NotFound, Refused
from gridreach.store import Store
from gridreach.views import ChatGroupView, OutboundView

__all__ = ["APPCHAT", "ROBOT", "RobotNoticeQueued", "WeComAppChat", "WeComRobot", "notice_markdown", "register_robot"]

log = logging.getLogger(__name__)


def register_robot(store: Store, settings: WeComSettings, grid_code: str, name: str,
                   bound_by: str = "operator") -> ChatGroupView:
    """Bind the group robot configured as ``name`` to a grid (its key stays in the configuration)."""
    if name not in settings.robot_keys:
        raise ConfigError(f"robots.{name}", "no webhook key is configured under this name")
    return store.bind_group(ROBOT, name, grid_code, name, bound_by)


def notice_markdown(title: str, body: str) -> str:
    return f"**{title}**\n{body}\n\n> " + both("wecom.notice_footer", sep="\n> ")


@dataclass
class RobotNoticeQueued:
    queued: list[str] = field(default_factory=list)  # group ids queued now
    already: list[str] = field(default_factory=list)  # queued before (not again)
    missing_keys: list[str] = field(default_factory=list)  # robots bound in the database but not configured


class _GroupNotifier(ABC):
    channel = ""

    def __init__(self, store: Store, settings: WeComSettings, pacer: Pacer | None = None, batch: int = 50) -> None:
        self.store = store
        self.settings = settings
        self.pacer = pacer or Pacer()
        self.batch = batch
        self._limit = Limit(settings.robot_per_minute, settings.robot_window)
        lease = timedelta(seconds=settings.robot_window * (batch // settings.robot_per_minute + 2))
        self.outbox = Outbox(store, self.channel, self._send, pacer=self.pacer, keys=self._keys,
                             on_failed=self._audit, backoff=settings.robot_window, backoff_factor=1.0, batch=batch,
                             lease=lease)

    def enqueue_notice(self, notice_id: int) -> RobotNoticeQueued:
        notice = self.store.get_notice(notice_id)
        if notice is None:
            raise NotFound(f"unknown notice {notice_id}")
        report = RobotNoticeQueued()
        payload = {"notice_id": notice_id, "msgtype": "markdown",
                   "content": notice_markdown(notice.title, notice.body)}
        for group in self.store.groups_for_grid(notice.grid_code, self.channel):
            if not self._can_send(group.external_id):
                report.missing_keys.append(group.external_id)
                self.store.audit("system", "wecom.robot_key_missing", "chat_group", group.id, {"notice": notice_id})
                continue
            queued = self.store.enqueue_outbound(self.channel, group.external_id, payload,
                                                 f"notice:{notice_id}:{group.external_id}", kind="notice")
            (report.queued if queued is not None else report.already).append(group.external_id)
        return report

    async def drain(self) -> OutboxReport:
        """Send what is due now, each group paced; returns what happened."""
        return await self.outbox.drain()

    async def drain_until_idle(self, timeout: float = 300.0) -> OutboxReport:
        """Drain until nothing is pending any more (waiting out rate-limit holds), or ``timeout`` seconds."""
        return await self.outbox.drain_until_idle(timeout)

    def _keys(self, row: OutboundView) -> tuple[tuple[Limit, str], ...]:
        return ((self._limit, f"{self.channel}:{row.target}"),)

    async def _send(self, row: OutboundView) -> None:
        await self._post(row.target, row.payload)

    def _audit(self, row: OutboundView, why: str) -> None:
        self.store.audit("system", f"{self.channel}.send_failed", "outbound", row.id, {"group": row.target, "reason": why})

    def _can_send(self, target: str) -> bool:
        return True

    @abstractmethod
    async def _post(self, target: str, payload: Any) -> None:
        """Send one queued message to the group ``target``; raises the channel errors of ``gridreach.errors``."""


class WeComRobot(_GroupNotifier):
    """Group robot webhooks: ``POST {api_base_url}webhook/send?key=<key>`` with a markdown or text message."""

    channel = ROBOT

    def __init__(self, store: Store, settings: WeComSettings, pacer: Pacer | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        super().__init__(store, settings, pacer)
        self._client = client

    def _can_send(self, target: str) -> bool:
        return target in self.settings.robot_keys

    async def _post(self, target: str, payload: Any) -> None:
        key = self.settings.robot_keys.get(target)
        if key is None:
            raise Refused(message=str(ConfigError(f"robots.{target}", "no webhook key is configured under this name")))
        kind = str(payload.get("msgtype") or "text")
        body = {"msgtype": kind, kind: {"content": str(payload.get("content") or "")}}
        client = self._client or httpx.AsyncClient(timeout=self.settings.http_timeout)
        try:
            answer = await client.post(self.settings.api_base_url + "webhook/send", params={"key": key}, json=body)
            result = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChannelUnavailable(f"robot webhook unreachable: {type(exc).__name__}") from None
        finally:
            if self._client is None:
                await client.aclose()
        if answer.status_code != 200 or not isinstance(result, dict):
            raise ChannelUnavailable(f"robot webhook answered HTTP {answer.status_code}")
        if int(result.get("errcode", 0)) != 0:
            raise refusal(int(result["errcode"]), str(result.get("errmsg", "")), self.settings.robot_window)


class WeComAppChat(_GroupNotifier):
    """App group chats (``appchat/send``) of groups the WeCom app created; the chatid is the group id."""

    channel = APPCHAT

    def __init__(self, store: Store, settings: WeComSettings, pacer: Pacer | None = None,
                 api: WeComAppAPI | None = None) -> None:
        super().__init__(store, settings, pacer)
        self.api = api or WeComAppAPI(settings)

    async def _post(self, target: str, payload: Any) -> None:
        await self.api.send_appchat(target, str(payload.get("content") or ""),
                                    markdown=payload.get("msgtype") == "markdown")
