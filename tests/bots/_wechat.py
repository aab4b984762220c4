"""Helpers of the WeChat tests: an Official Account served on 127.0.0.1 against a fake WeChat, scripted dialogues."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bots.wechat import OfficialAccount, OfficialAccountSettings
from gridreach.dialogue import Dialogue, Reply
from gridreach.store import Store
from gridreach_app.web import ServedApp, new_app, serve_app
from gridreach_fakes.wechat import FakeWeChat

TOKEN = "gridreachtoken"
APP_ID = "wxfake0123456789"
SECRET = "fake-app-secret"
YES_NO = {"expect": {"questionnaire": "daily_health", "question": "cough", "type": "yes_no", "language": "zh",
                     "options": [{"value": "yes", "label": "是", "keypad": "1"},
                                 {"value": "no", "label": "否", "keypad": "2"}],
                     "min": None, "max": None, "unit": None, "prompt": "您最近有没有咳嗽？"}}


@dataclass
class Account:
    fake: FakeWeChat
    served: ServedApp
    oa: OfficialAccount

    def close(self) -> None:
        self.served.run(self.oa.bot.turns.settle())
        self.served.stop()
        self.fake.close()


def open_account(store: Store, dialogue: Dialogue, *, loop: asyncio.AbstractEventLoop | None = None,
                 aes_key: str | None = None, reply_timeout: float = 5.0, **overrides: Any) -> Account:
    fake = FakeWeChat(TOKEN, APP_ID, SECRET, aes_key, reply_timeout=reply_timeout)
    settings = OfficialAccountSettings(app_id=APP_ID, token=TOKEN, app_secret=SECRET, encoding_aes_key=aes_key,
                                       api_base_url=fake.api_url, **overrides)
    oa = OfficialAccount.build(store, dialogue, settings)
    served = serve_app(new_app(oa.blueprint()), loop=loop)
    fake.webhook_url = served.url + "/webhook"
    return Account(fake, served, oa)


@dataclass
class Scripted:
    """A dialogue that answers every message with the same replies (after ``delay`` seconds) and records calls."""

    replies: list[Reply] = field(default_factory=lambda: [Reply(text="您最近有没有咳嗽？"), Reply(custom=YES_NO)])
    delay: float = 0.0
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def handle(self, sender_id: str, text: str, channel: str,
                     metadata: dict[str, Any] | None = None) -> list[Reply]:
        self.calls.append((sender_id, text, dict(metadata or {})))
        if self.delay:
            await asyncio.sleep(self.delay)
        return list(self.replies)


def openid() -> str:
    """A fresh 28-character openid, as WeChat issues them."""
    return "o" + uuid.uuid4().hex[:27]


def seed_grid(store: Store) -> None:
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "T01", "测试网格")
    store.add_grid_worker("T01", "王网格", "+8613800138000", "zh")


def new_resident(store: Store, language: str = "zh") -> tuple[int, str]:
    """A resident of grid T01: (id, phone digits)."""
    digits = f"139{uuid.uuid4().int % 10**8:08d}"
    return store.add_resident("T01", f"测试路{digits[-4:]}号", "居民" + digits[-4:], "+86" + digits, 1980,
                              language), digits


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until ``check()`` is truthy (background sends); fails the test after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the expected background delivery did not happen")

