"""The embedded default, wired: the resident database, the trained model, the action server, the Rasa agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from campaigns import QUESTIONNAIRE_DIR
from campaigns.registry import load_and_register
from gridreach.settings import Settings
from gridreach.store import Store
from gridreach_app.action_server import ActionServer, free_port
from gridreach_app.dialogue import Dialogue, EmbeddedDialogue, OnceOnly, RemoteDialogue
from gridreach_app.model import ensure_model

__all__ = ["Runtime", "open_runtime"]


@dataclass
class Runtime:
    settings: Settings
    store: Store
    dialogue: Dialogue


@asynccontextmanager
async def open_runtime(settings: Settings, *, keep_conversations: bool = True) -> AsyncIterator[Runtime]:
    """Everything a job needs, started; stopped again on exit.

    ``keep_conversations`` keeps Rasa's conversation trackers in ``<home>/trackers.db`` (SQL tracker store), so
    a resident's conversation survives a restart; a scripted batch (the demo) keeps them in memory instead.

    In ``embedded`` mode (the default) this starts the action server and loads the model in-process; in
    ``remote`` mode it only talks to ``GRIDREACH_RASA_URL`` (whose own action server is the operator's).
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(settings.database_url)
    store.migrate()
    load_and_register(store, QUESTIONNAIRE_DIR)
    if settings.dialogue_mode == "remote":
        assert settings.rasa_url is not None
        remote = RemoteDialogue(settings.rasa_url)
        try:
            yield Runtime(settings, store, OnceOnly(remote, store))
        finally:
            await remote.aclose()
            store.close()
        return
    model = ensure_model(settings.model_dir)
    with ActionServer(settings, port=free_port()) as actions:
        trackers = settings.home / "trackers.db" if keep_conversations else None
        dialogue = await EmbeddedDialogue(model, actions.url, tracker_db=trackers).start()
        try:
            yield Runtime(settings, store, OnceOnly(dialogue, store))
        finally:
            store.close()
