"""The demo's WeChat part: residents of the grid on a fake WeChat Official Account (safe mode), and the grid's
WeCom group robot, against ``gridreach_fakes.wechat`` / ``gridreach_fakes.wecom`` on 127.0.0.1.

The grid's WeCom robot group gets the grid worker's notice (through the outbox, paced). Each resident follows the
account, binds with their phone and the one-time code the grid worker got from the bot, some reply 收到 (a receipt
each), then tap the screening menu (``CAMPAIGN:<token>``) and answer from their scripts; a reply that is one of
the numbered options of the last question is sent as its number, as residents do. Every callback is signed and
AES-encrypted as WeChat does it, and every reply is checked and decrypted by the fake.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from sanic import Blueprint

from bots.wechat import OfficialAccount, OfficialAccountSettings, WeComRobot, WeComSettings, register_robot
from gridreach.dialogue import Dialogue
from gridreach.store import Store
from gridreach.views import GridWorkerView, ResidentView
from gridreach_demo.channels import ChannelRun
from gridreach_demo.telegram import Started

__all__ = ["WeChatPart"]

APP_ID = "wxdemo0123456789"


class _Residents:
    """Residents on the fake WeChat, acting from worker threads (a callback returns with our passive reply)."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.replies = 0  # passive replies that carried a text

    def _count(self, delivery: Any) -> Any:
        if delivery.text:
            self.replies += 1
        return delivery

    def resident(self, openid: str, resident: ResidentView, code: str, receipt: bool, token: str,
                 replies: Sequence[str]) -> None:
        self._count(self.fake.event(openid, "subscribe"))
        self._count(self.fake.text(openid, f"{(resident.phone or '').removeprefix('+86')} {code}"))
        if receipt:
            self._count(self.fake.text(openid, "收到"))
        if not replies:
            return
        last = self._count(self.fake.event(openid, "CLICK", f"CAMPAIGN:{token}"))
        for reply in replies:
            last = self._count(self.fake.text(openid, _numbered(last.text or "", reply)))


def _numbered(question: str, reply: str) -> str:
    """The option's number when ``reply`` is one of the numbered options ("1 有 / 2 没有") of ``question``."""
    for line in reversed(question.splitlines()):
        found = re.search(rf"(?:^|/ )(\d) {re.escape(reply)}(?= /| |$)", line)
        if found is not None:
            return found.group(1)
    return reply


class WeChatPart:
    """The fake WeChat (safe mode) and our Official Account over the app's dialogue; WeCom's robot in ``run``."""

    def __init__(self, wechat: ModuleType, wecom: ModuleType, store: Store, dialogue: Dialogue, url: str,
                 fast: bool) -> None:
        self.store, self.wecom, self.fast = store, wecom, fast
        aes_key = base64.b64encode(os.urandom(32)).decode().rstrip("=")
        token, secret = secrets.token_hex(8), secrets.token_urlsafe(16)
        self.fake: Any = wechat.FakeWeChat(token, APP_ID, secret, aes_key)
        self.fake.webhook_url = f"{url}/wechat/webhook"
        settings = OfficialAccountSettings(app_id=APP_ID, token=token, app_secret=secret, encoding_aes_key=aes_key,
                                           api_base_url=self.fake.api_url)
        self.account = OfficialAccount.build(store, dialogue, settings)

    def blueprint(self) -> Blueprint:
        return self.account.blueprint()

    def close(self) -> None:
        self.fake.close()

    async def notify_groups(self, worker: GridWorkerView, notice_id: int, run: ChannelRun) -> None:
        """The grid's WeCom robot group gets the notice (a fake WeCom; the robot's key is configuration)."""
        robot_key, robot_name = f"demo-{uuid.uuid4()}", f"{worker.grid_code}-residents"
        window = 1.0 if self.fast else 60.0
        fake_wecom: Any = self.wecom.FakeWeCom(robot_keys=(robot_key,), window=window)
        try:
            robots = WeComSettings(api_base_url=fake_wecom.api_url, robot_keys={robot_name: robot_key},
                                   robot_window=window)
            register_robot(self.store, robots, worker.grid_code, robot_name, f"worker:{worker.id}")
            robot = WeComRobot(self.store, robots)
            queued = robot.enqueue_notice(notice_id)
            sent = await robot.drain_until_idle(timeout=120)
            run.extra.append(f"WeCom: the notice went to {sent.sent} robot group(s) of the grid"
                             + (f", {len(queued.missing_keys)} robot(s) without a configured key"
                                if queued.missing_keys else "") + (f", {len(sent.failed)} failed" if sent.failed
                                                                   else ""))
            run.outbound += len(fake_wecom.robot_texts(robot_key))
        finally:
            fake_wecom.close()

    async def run(self, worker: GridWorkerView, residents: Sequence[ResidentView], run: ChannelRun,
                  started: Started, out: Callable[[str], None]) -> None:
        """The WeChat / WeCom part; fills ``run`` with what was done."""
        await self.notify_groups(worker, started.notice_id, run)
        fake, people, gate = self.fake, _Residents(self.fake), asyncio.Semaphore(4)

        async def one(index: int, resident: ResidentView) -> None:
            code = started.codes.get(resident.id)
            if code is None:
                return
            scenario = run.plan[resident.id]
            replies = scenario.replies.get(resident.language) or scenario.replies["zh"]
            openid = "o" + uuid.uuid4().hex[:27]
            receipt = index % 2 == 1
            async with gate:
                await asyncio.to_thread(people.resident, openid, resident, code, receipt, started.token, replies)
            run.identities[resident.id] = openid
            run.receipts += int(receipt)

        await asyncio.gather(*(one(i, r) for i, r in enumerate(residents)))
        await self.account.bot.turns.settle()
        await self.account.service.drain()
        late = len(fake.sent)
        run.inbound += len(fake.callbacks)
        run.outbound += people.replies + late
        run.extra.append(f"Official Account (safe mode): {people.replies} encrypted passive replies, {late} sent "
                         f"later as customer-service messages, {len(fake.callbacks)} signed callbacks (WeChat's "
                         "retries included)")
        out(f"  WeChat: done ({len(fake.callbacks)} callbacks, {people.replies + late} replies).")
