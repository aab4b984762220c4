"""The demo's Telegram part: the grid worker and residents of one grid, as Telegram users of a fake Bot API.

The connector (``bots.telegram``: webhook with its secret token, paced sender, outbox) runs on this event loop
over the app's dialogue; the fake Telegram (``gridreach_fakes.telegram``) runs in its own thread and POSTs each update
to the webhook, as Telegram does. People act from worker threads (a fake's call returns once our webhook answered).

The grid worker shares their contact (known by phone: a grid worker), binds a group (``/bind``), sends a notice
(``/notice``: posted to the group with a 收到 button), starts the screening (``/screen``: a deep-link button in the
group) and asks for one-time codes (``/code``) for the neighbours who will bind on WeChat. Residents open the deep
link, bind by sharing their contact, and answer from their scripts: a reply that is a button's label is pressed,
anything else is typed. Some press 收到 under the notice (a receipt each); a neighbour the bot does not know
presses it too (no receipt: they are asked to bind first).
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sanic import Blueprint

from bots.pacing import Limit
from bots.telegram.channel import webhook_blueprint
from bots.telegram.config import TelegramSettings
from bots.telegram.runtime import TelegramRuntime
from gridreach.dialogue import Dialogue
from gridreach.store import Store
from gridreach.views import GridWorkerView, ResidentView
from gridreach_demo.channels import ChannelRun

__all__ = ["NOTICE", "Started", "TelegramPart"]

NOTICE = "明天（周六）上午9点至11点在小区南门免费核酸检测，请带好身份证。\nFree testing at the south gate tomorrow 9-11."
_CODE = re.compile(r"(?<!\d)(\d{8})(?!\d)")
# the fake's limits in fast mode (tests), and our pacer a little stricter than the fake so that it is never refused
_FAST_FAKE = {"per_chat": (1, 0.04), "per_group": (20, 0.9), "overall": (30, 0.04)}


@dataclass
class Started:
    """What the grid worker started on Telegram, used by the other channels."""

    notice_id: int
    campaign_id: int
    token: str
    codes: dict[int, str] = field(default_factory=dict)  # resident id -> one-time code (for WeChat)


def _settings(fake: Any, url: str, fast: bool) -> TelegramSettings:
    scale = 0.05 if fast else 1.0
    return TelegramSettings(token=fake.token, bot_username=fake.username, base_url=fake.base_url,
                            webhook_url=f"{url}/telegram/webhook", webhook_secret=secrets.token_urlsafe(24),
                            per_chat=Limit(1, 1.05 * scale), per_group=Limit(20, 61.0 * scale),
                            overall=Limit(30, 1.05 * scale), retry_backoff=0.05 if fast else 1.0)


class _People:
    """The fake's users, acting from worker threads (each call returns once our webhook has answered)."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake

    def inline(self, chat_id: int, prefix: str) -> dict[str, Any] | None:
        """The last message in ``chat_id`` with live inline buttons whose data starts with ``prefix``."""
        for message in reversed(self.fake.messages(chat_id)):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
            if any(str(b.get("callback_data", "")).startswith(prefix) for row in rows for b in row):
                return dict(message)
        return None

    def answer(self, user: dict[str, Any], reply: str) -> None:
        """Press the button labelled ``reply`` under the question asked last, or type ``reply``."""
        asked = self.inline(user["id"], "q:")
        if asked is not None:
            for row in asked["reply_markup"]["inline_keyboard"]:
                for button in row:
                    if button.get("text", "").strip().lower() == reply.strip().lower():
                        self.fake.press(user, asked, button["callback_data"])
                        return
        self.fake.private_text(user, reply)

    def resident(self, user: dict[str, Any], resident: ResidentView, token: str, replies: Sequence[str]) -> None:
        self.fake.private_text(user, f"/start {token}")  # pressed the group's button
        self.fake.share_contact(user, resident.phone)
        for reply in replies:
            self.answer(user, reply)


class TelegramPart:
    """The fake Telegram (started here, in its own thread) and our connector over the app's dialogue."""

    def __init__(self, fakes: ModuleType, store: Store, dialogue: Dialogue, url: str, fast: bool) -> None:
        self.store = store
        fake_type: Any = fakes.FakeTelegram
        self.fake: Any = fake_type(token=f"{random.randrange(10**8, 10**9)}:DEMO-{secrets.token_urlsafe(12)}",
                                   username="gridreach_demo_bot", **(_FAST_FAKE if fast else {}))
        self.fake.__enter__()
        self.runtime = TelegramRuntime(_settings(self.fake, url, fast), store, dialogue)

    def blueprint(self) -> Blueprint:
        """The webhook; serving it starts the connector (which registers the webhook with the fake)."""
        return webhook_blueprint(self.runtime)

    def close(self) -> None:
        self.fake.__exit__(None, None, None)

    async def run(self, worker: GridWorkerView, residents: Sequence[ResidentView], run: ChannelRun,
                  wechat_people: Sequence[ResidentView], out: Callable[[str], None]) -> Started:
        """The Telegram part; fills ``run`` with what was done and returns what the grid worker started."""
        fake = self.fake
        started = await _script(self.store, fake, self.runtime, worker, residents, run, wechat_people)
        with fake.lock:
            run.inbound = len(fake.updates)
            run.outbound = sum(len(messages) for messages in fake.sent.values())
            refused = len(fake.rejected)
        run.extra.append(f"1 group bound; the notice and the screening posted there; {len(started.codes)} "
                         f"one-time codes given to the grid worker for WeChat; {refused} requests refused by "
                         "Telegram (rate limits, stale buttons)")
        out(f"  Telegram: done ({run.inbound} updates to the webhook, {run.outbound} messages sent).")
        return started


async def _script(store: Store, fake: Any, runtime: TelegramRuntime, worker: GridWorkerView,
                  residents: Sequence[ResidentView], run: ChannelRun,
                  wechat_people: Sequence[ResidentView]) -> Started:
    people = _People(fake)
    base = random.randrange(10**9, 6 * 10**9)  # Telegram user ids: new accounts each run
    grid_worker = fake.user(base, "网格员", worker.language)
    group = -(10**12) - random.randrange(10**9)
    fake.group(group, f"{worker.grid_code} 居民群", "supergroup")
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    await asyncio.to_thread(fake.share_contact, grid_worker, worker.phone)
    await asyncio.to_thread(fake.group_text, group, grid_worker, f"/bind {worker.grid_code}")
    await asyncio.to_thread(fake.private_text, grid_worker, f"/notice {NOTICE}")
    await asyncio.to_thread(fake.private_text, grid_worker, "/screen daily_health")
    await runtime.sender.drain()
    notice = store.latest_notice(worker.grid_code, since)
    link = next((b["url"] for m in fake.messages(group) for row in (m.get("reply_markup") or {}).get(
        "inline_keyboard", []) for b in row if b.get("url")), None)
    if notice is None or not link:
        raise RuntimeError("the grid worker's notice or screening did not reach the group")
    token = parse_qs(urlsplit(link).query)["start"][0]
    campaign = store.campaign_by_token(token)
    if campaign is None:
        raise RuntimeError("the screening's deep link names no campaign")
    started = Started(notice.id, campaign.id, token)
    for resident in wechat_people:  # the grid worker asks the bot for codes, for the neighbours on WeChat
        await asyncio.to_thread(fake.private_text, grid_worker, f"/code {resident.phone}")
        found = _CODE.search(fake.texts(grid_worker["id"])[-1])
        if found is not None:
            started.codes[resident.id] = found.group(1)

    users = {r.id: fake.user(base + 1 + i, "居民", r.language) for i, r in enumerate(residents)}
    gate = asyncio.Semaphore(5)

    async def one(resident: ResidentView) -> None:
        replies = run.plan[resident.id].replies.get(resident.language) or run.plan[resident.id].replies["zh"]
        if not replies:  # never opened the link
            return
        async with gate:
            await asyncio.to_thread(people.resident, users[resident.id], resident, token, replies)
        run.identities[resident.id] = str(users[resident.id]["id"])

    await asyncio.gather(*(one(r) for r in residents))
    notice_post = people.inline(group, "n:")
    if notice_post is None:
        raise RuntimeError("the notice did not reach the group with its 收到 button")
    pressers = [r for i, r in enumerate(residents) if r.id in run.identities and i % 2 == 0]
    for resident in pressers:
        await asyncio.to_thread(fake.press, users[resident.id], notice_post, f"n:{notice.id}")
    run.receipts = len(pressers)
    stranger = fake.user(base + len(residents) + 1, "Neighbour", "zh")
    await asyncio.to_thread(fake.press, stranger, notice_post, f"n:{notice.id}")  # unknown: asked to bind first
    await runtime.sender.drain()
    return started
