"""The real dialogue stack for tests: trained model, action server subprocess, Rasa Agent in-process.

Started once per database backend (SQLite, and PostgreSQL when reachable) and shared by the tests of this
folder. The Agent runs on an event loop in a background thread so that tests stay plain functions.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gridreach.identity import resident_sender_id
from gridreach.settings import Settings
from gridreach.store import Store
from gridreach_app.action_server import ActionServer, free_port
from gridreach_app.dialogue import EmbeddedDialogue, Reply, start_message
from gridreach_app.model import PROJECT_ROOT, ensure_model
from tests.conftest import BACKENDS, empty_database
from tests.support.grid import seed_one_grid


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per backend for the whole dialogue stack (overrides the per-test fixture)."""
    with empty_database(request.param, tmp_path_factory.mktemp("dialogs")) as url:
        yield url


@dataclass
class Stack:
    """A running dialogue stack and the people it knows."""

    store: Store
    dialogue: EmbeddedDialogue
    loop: asyncio.AbstractEventLoop
    residents: dict[str, int]
    action_url: str
    model_path: Path
    action_log: Path | None = None

    def say(self, sender: str, text: str, channel: str = "test", **metadata: Any) -> list[Reply]:
        future = asyncio.run_coroutine_threadsafe(self.dialogue.handle(sender, text, channel, metadata), self.loop)
        return future.result(timeout=120)

    def texts(self, sender: str, text: str, channel: str = "test", **metadata: Any) -> list[str]:
        return [r.text for r in self.say(sender, text, channel, **metadata) if r.text]

    def start(self, who: str, questionnaire: str = "daily_health", campaign: int | None = None,
              channel: str = "test") -> list[str]:
        return self.texts(self.sender(who), start_message(questionnaire, campaign), channel)

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker state as Rasa sends it to the action server."""

        async def read() -> dict[str, Any]:
            tracker = await self.dialogue._agent.tracker_store.retrieve(sender)
            return dict(tracker.current_state()) if tracker is not None else {}

        return asyncio.run_coroutine_threadsafe(read(), self.loop).result(timeout=60)

    def sender(self, who: str) -> str:
        return resident_sender_id(self.residents[who])

    def fresh(self, who: str, language: str = "zh", birth_year: int = 1980) -> str:
        """A new resident (so that each test has its own conversation); returns the sender id."""
        phone = f"+86139{uuid.uuid4().int % 10**8:08d}"
        address = f"测试路{len(self.residents) + 1}号"
        self.residents[who] = self.store.add_resident("T01", address, who, phone, birth_year, language)
        return self.sender(who)


@pytest.fixture(scope="session")
def model_path() -> Path:
    return ensure_model(PROJECT_ROOT / "models", quiet=True)


@pytest.fixture(scope="session")
def stack(db_url: str, model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    # the action server logs at DEBUG, so that tests/dialogs/test_no_health_data_in_logs.py scans everything
    settings = Settings(home=home, database_url=db_url, log_level="DEBUG")
    store = Store.from_url(db_url)
    store.migrate()
    seed_one_grid(store)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    with ActionServer(settings, port=free_port()) as actions:
        dialogue = EmbeddedDialogue(model_path, actions.url)
        asyncio.run_coroutine_threadsafe(dialogue.start(), loop).result(timeout=300)
        yield Stack(store, dialogue, loop, {}, actions.url, model_path, actions.log_path)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    store.close()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG with GridReach's scrubbing installed, captured; quiet again afterwards."""
    from gridreach_app.logs import configure_rasa_logging, quiet_rasa

    configure_rasa_logging(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        quiet_rasa()
