"""Fixtures of the connector tests (Telegram, WeChat/WeCom), each engineer's under its own header."""

from __future__ import annotations

import asyncio
import base64
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Sanic 21.12 rewrites its request-handling methods when an app starts ("touchup"); a second app in the same
# process then fails (KeyError '_run_response_middleware') unless test mode keeps the originals.
from sanic import Sanic

from tests.conftest import BACKENDS, empty_database
from tests.support.grid import seed_one_grid

Sanic.test_mode = True


# ---- WeChat Official Account / WeCom ----------------------------------------------------------------------------
@pytest.fixture(scope="session", params=BACKENDS)
def wechat_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The real dialogue stack (model, action server, Rasa agent on a background loop) on each backend."""
    from gridreach.settings import Settings
    from gridreach.store import Store
    from gridreach_app.action_server import ActionServer, free_port
    from gridreach_app.dialogue import EmbeddedDialogue
    from gridreach_app.model import PROJECT_ROOT, ensure_model
    from gridreach_app.model import model_path as current_model
    from tests.dialogs.conftest import Stack

    if not current_model(PROJECT_ROOT / "models").exists():  # training belongs to `make model`, not to a test
        pytest.fail("no trained model for the current inputs: run `make model` first")
    model_path: Path = ensure_model(PROJECT_ROOT / "models", quiet=True)
    with empty_database(request.param, tmp_path_factory.mktemp("wechat")) as url:
        settings = Settings(home=tmp_path_factory.mktemp("wechat-home"), database_url=url)
        store = Store.from_url(url)
        store.migrate()
        seed_one_grid(store)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        try:
            with ActionServer(settings, port=free_port()) as actions:
                dialogue = EmbeddedDialogue(model_path, actions.url)
                asyncio.run_coroutine_threadsafe(dialogue.start(), loop).result(timeout=300)
                yield Stack(store, dialogue, loop, {}, actions.url, model_path)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            store.close()


@pytest.fixture
def aes_key() -> str:
    """A fresh EncodingAESKey (43 characters of base64 for 32 random bytes)."""
    return base64.b64encode(os.urandom(32)).decode().rstrip("=")


# ---- Telegram ---------------------------------------------------------------------------------------------------
# A fake Bot API with Telegram's limits scaled down (the pacer's a little stricter than the fake's, so that only the
# 429 tests see 429s), the connector's runtime served by Sanic on its own loop, with the webhook registered.
@dataclass
class TelegramRig:
    fake: Any
    runtime: Any
    served: Any
    store: Any

    @property
    def bot(self) -> Any:
        return self.runtime.bot

    def run(self, coro: Any, timeout: float = 120.0) -> Any:
        return self.served.run(coro, timeout)

    def drain(self) -> None:
        """Send everything due in the outbox (and whatever falls due while doing so)."""
        self.run(self.runtime.sender.drain())


def telegram_settings(fake: Any, **overrides: Any) -> Any:
    from bots.pacing import Limit
    from bots.telegram.config import TelegramSettings

    values: dict[str, Any] = {
        "token": fake.token, "bot_username": fake.username, "base_url": fake.base_url,
        "webhook_secret": "test-secret_1", "per_chat": Limit(1, 0.05), "per_group": Limit(20, 1.0),
        "overall": Limit(30, 0.05), "retry_backoff": 0.05, "send_attempts": 3, "poll_timeout": 1,
    }
    values.update(overrides)
    return TelegramSettings(**values)


FAST_FAKE = {"per_chat": (1, 0.04), "per_group": (20, 0.9), "overall": (30, 0.04)}


@contextmanager
def telegram_rig(store: Any, dialogue: Any, fake_limits: dict[str, Any] | None = None,
                 loop: asyncio.AbstractEventLoop | None = None, **settings: Any) -> Iterator[TelegramRig]:
    """The connector over ``dialogue`` and ``store``, in webhook mode (or ``mode="polling"``), against a fresh fake."""
    from bots.telegram.channel import webhook_blueprint
    from bots.telegram.runtime import TelegramRuntime
    from gridreach_app.web import new_app, serve_app
    from gridreach_fakes.telegram import FakeTelegram

    with FakeTelegram(**(fake_limits or FAST_FAKE)) as fake:
        runtime = TelegramRuntime(telegram_settings(fake, **settings), store, dialogue)
        served = serve_app(new_app(webhook_blueprint(runtime)), loop)
        try:
            if runtime.settings.mode == "webhook":
                served.run(runtime.api.set_webhook(f"{served.url}/webhook", runtime.settings.webhook_secret))
            yield TelegramRig(fake, runtime, served, store)
        finally:
            served.stop()


def seed_grid(store: Any) -> dict[str, int]:
    """Grids T01 and T02 with a grid worker each (phones +8613800138000 / +8613800138001)."""
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "T01", "测试网格")
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "T02", "第二网格")
    return {"T01": store.add_grid_worker("T01", "王网格", "+8613800138000", "zh"),
            "T02": store.add_grid_worker("T02", "Li Grid", "+8613800138001", "en")}


@pytest.fixture(scope="session")
def bot_stack(wechat_stack: Any) -> Any:
    """The real dialogue stack shared by the connector tests (one model load per backend for WeChat and Telegram)."""
    return wechat_stack


# ---- WeChat Official Account fixtures (tests/bots/test_wechat_*.py) ---------------------------------------------
@pytest.fixture
def seeded(store: Any) -> Any:
    """The ``store`` with the WeChat tests' grid."""
    from tests.bots._wechat import seed_grid as wechat_grid

    wechat_grid(store)
    return store


def _account(store: Any, **options: Any) -> Iterator[tuple[Any, Any]]:
    from gridreach.dialogue import OnceOnly
    from tests.bots._wechat import Scripted, open_account

    dialogue = Scripted()
    account = open_account(store, OnceOnly(dialogue, store), **options)
    yield account, dialogue
    account.close()


@pytest.fixture
def plain(seeded: Any) -> Iterator[tuple[Any, Any]]:
    """An Official Account in plaintext mode on loopback, with a scripted dialogue."""
    yield from _account(seeded)


@pytest.fixture
def safe(seeded: Any, aes_key: str) -> Iterator[tuple[Any, Any]]:
    """The same in safe (AES) mode."""
    yield from _account(seeded, aes_key=aes_key)


# ---- Telegram: one resident, a scripted dialogue (tests/bots/test_telegram_binding.py, _private.py) -------------
PHONE = "+8613912345678"


@pytest.fixture
def rig(store: Any) -> Any:
    """A Telegram rig on loopback with grid T01 and one resident, 张三 (``PHONE``)."""
    from tests.bots._telegram import ScriptedDialogue

    seed_grid(store)
    store.add_resident("T01", "幸福路1号", "张三", PHONE, 1970, "zh")
    with telegram_rig(store, ScriptedDialogue()) as running:
        yield running
