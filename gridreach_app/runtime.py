"""The embedded default, wired: the resident database, the trained model, the action server, the Rasa agent."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from campaigns import QUESTIONNAIRE_DIR
from campaigns.registry import load_and_register
from gridreach.errors import ConfigError
from gridreach.settings import Settings
from gridreach.store import Store
from gridreach_app.action_server import ActionServer, free_port
from gridreach_app.dialogue import Dialogue, EmbeddedDialogue, OnceOnly, RemoteDialogue
from gridreach_app.model import ensure_model

__all__ = ["Runtime", "open_runtime", "rasa_run_command"]

log = logging.getLogger(__name__)


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

    In ``embedded`` mode (the default) this starts the action server (on 127.0.0.1, a token made for this run,
    dying with this process) and loads the model in-process; in ``remote`` mode it only talks to
    ``GRIDREACH_RASA_URL`` with ``GRIDREACH_RASA_TOKEN`` (whose own action server is the operator's).
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(settings.database_url)
    store.migrate()
    load_and_register(store, QUESTIONNAIRE_DIR)
    if settings.dialogue_mode == "remote":
        assert settings.rasa_url is not None
        if not settings.rasa_token:
            log.warning("GRIDREACH_RASA_TOKEN is not set: talking to Rasa's open REST channel, whose metadata "
                        "(keypad, message ids) the actions ignore; set it and enable dialogs.channel.TokenRestInput "
                        "in Rasa's credentials.yml (docs/OPERATIONS.md, Security)")
        remote = RemoteDialogue(settings.rasa_url, token=settings.rasa_token)
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


def rasa_run_command(model: Path, port: int, *, endpoints: Path, credentials: Path, auth_token: str | None = None,
                     jwt_secret: str | None = None, host: str = "127.0.0.1") -> list[str]:
    """``rasa run --enable-api`` as production runs it: the HTTP API behind ``--auth-token`` and/or
    ``--jwt-secret`` (never open), on ``host`` (loopback unless a load balancer needs more), with GridReach's
    ``credentials.yml`` (its token-checked REST channel, not Rasa's open ``rest``)."""
    if not auth_token and not jwt_secret:
        raise ConfigError("GRIDREACH_RASA_TOKEN", "Rasa's HTTP API needs --auth-token or --jwt-secret")
    cmd = [sys.executable, "-m", "rasa", "run", "--enable-api", "-m", str(model), "-i", host, "--port", str(port),
           "--endpoints", str(endpoints), "--credentials", str(credentials)]
    if auth_token:
        cmd += ["--auth-token", auth_token]
    if jwt_secret:
        cmd += ["--jwt-secret", jwt_secret, "--jwt-method", "HS256"]
    return cmd
