"""The dialogue port: ``handle(sender_id, text, channel, metadata) -> replies``.

Two implementations share the port. ``EmbeddedDialogue`` runs a Rasa ``Agent`` in this process (the default:
one machine, nothing else to run but the action server it is given). ``RemoteDialogue`` talks to ``rasa run``
over GridReach's token-checked REST channel (``dialogs.channel``); behind that URL may stand several Rasa servers
sharing a Redis lock store and a SQL tracker store (see ``endpoints.yml``). A sender is always a person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from campaigns.triggers import start_message
from gridreach.dialogue import Dialogue, DialogueError, OnceOnly, Reply
from gridreach_app.logs import quiet_rasa

__all__ = [
    "Dialogue",
    "DialogueError",
    "EmbeddedDialogue",
    "OnceOnly",
    "RemoteDialogue",
    "Reply",
    "split_token",
    "start_message",
]


def split_token(url: str) -> tuple[str, str | None]:
    """``http://host/webhook?token=T`` -> (``http://host/webhook``, ``T``): the URL safe to show, and the token."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    token = next((v for k, v in query if k == "token"), None)
    rest = urlencode([(k, v) for k, v in query if k != "token"])
    return urlunsplit(parts._replace(query=rest)), token


class EmbeddedDialogue:
    """A Rasa ``Agent`` loaded in this process, calling the given action server.

    ``action_url`` may carry the action server's token as ``?token=`` (``ActionServer.url``); Rasa sends it with
    every call (``EndpointConfig(token=...)``) and it never appears in a message or a log line.
    """

    def __init__(self, model_path: Path, action_url: str, tracker_db: Path | None = None,
                 action_token: str | None = None) -> None:
        self.model_path = model_path
        self.action_url, token = split_token(action_url)
        self._action_token = action_token or token
        self.tracker_db = tracker_db
        self._agent: Any = None

    async def start(self) -> EmbeddedDialogue:
        from rasa.core.agent import load_agent
        from rasa.core.utils import AvailableEndpoints
        from rasa.utils.endpoints import EndpointConfig

        quiet_rasa()

        tracker_store = None
        if self.tracker_db is not None:
            self.tracker_db.parent.mkdir(parents=True, exist_ok=True)
            tracker_store = EndpointConfig(type="sql", dialect="sqlite", db=str(self.tracker_db))
        action = EndpointConfig(url=self.action_url, token=self._action_token)
        endpoints = AvailableEndpoints(action=action, tracker_store=tracker_store)
        self._agent = await load_agent(model_path=str(self.model_path), endpoints=endpoints)
        if not self._agent.is_ready():
            raise DialogueError(f"the Rasa model at {self.model_path} could not be loaded")
        return self

    async def handle(
        self, sender_id: str, text: str, channel: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        if self._agent is None:
            raise DialogueError("EmbeddedDialogue.start() was not awaited")
        meta = {"channel": channel, **(metadata or {})}
        output = CollectingOutputChannel()
        message = UserMessage(text, output, sender_id, input_channel=channel, metadata=meta)
        raw = await self._agent.handle_message(message)
        if not raw and not await self._actions_alive():
            # Rasa logs a failed custom action and carries on with no reply and no state change; say so, so that
            # the channel's redelivery (or the resident's next message) answers the same question again.
            raise DialogueError(f"the action server at {self.action_url} is not answering; the turn was not taken")
        return [Reply.from_rasa(r) for r in raw or []]

    async def _actions_alive(self) -> bool:
        health = self.action_url.rsplit("/", 1)[0] + "/health"
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                return (await client.get(health)).status_code == 200
        except httpx.HTTPError:
            return False


class RemoteDialogue:
    """GridReach's REST channel (``dialogs.channel.TokenRestInput``) on a Rasa server or a cluster behind one URL.

    With ``token`` (``GRIDREACH_RASA_TOKEN``) it posts to ``/webhooks/gridreach/webhook`` with ``Authorization:
    Bearer <token>``, and the connector's metadata (keypad, message id, channel) is believed. Without one it falls
    back to Rasa's open ``rest`` channel, whose metadata the actions drop (anyone could have sent it); the runtime
    warns at start.
    """

    def __init__(self, base_url: str, timeout: float = 30.0, client: httpx.AsyncClient | None = None,
                 token: str | None = None) -> None:
        channel = "gridreach" if token else "rest"
        self.url = base_url.rstrip("/") + f"/webhooks/{channel}/webhook"
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def handle(
        self, sender_id: str, text: str, channel: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]:
        body = {"sender": sender_id, "message": text, "metadata": {"channel": channel, **(metadata or {})}}
        try:
            response = await self._client.post(self.url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise DialogueError(f"Rasa at {self.url} is unreachable: {exc.__class__.__name__}") from exc
        if response.status_code in (401, 403):
            raise DialogueError(f"Rasa at {self.url} refused the token (HTTP {response.status_code}): set "
                                f"GRIDREACH_RASA_TOKEN to the token in Rasa's credentials.yml")
        if response.status_code != 200:
            raise DialogueError(f"Rasa at {self.url} answered HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise DialogueError(f"Rasa at {self.url} answered something that is not JSON") from exc
        if not isinstance(payload, list):
            raise DialogueError(f"Rasa at {self.url} answered {type(payload).__name__}, not a list of messages")
        return [Reply.from_rasa(r) for r in payload if isinstance(r, dict)]

    async def aclose(self) -> None:
        await self._client.aclose()
