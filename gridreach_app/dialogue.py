"""The dialogue port: ``handle(sender_id, text, channel, metadata) -> replies``.

Two implementations share the port. ``EmbeddedDialogue`` runs a Rasa ``Agent`` in this process (the default:
one machine, nothing else to run but the action server it is given). ``RemoteDialogue`` talks to ``rasa run
--enable-api`` over Rasa's REST channel; behind that URL may stand several Rasa servers sharing a Redis lock store
and a SQL tracker store (see ``endpoints.yml``). A sender is always a person, never a group chat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    "start_message",
]


class EmbeddedDialogue:
    """A Rasa ``Agent`` loaded in this process, calling the given action server."""

    def __init__(self, model_path: Path, action_url: str, tracker_db: Path | None = None) -> None:
        self.model_path = model_path
        self.action_url = action_url
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
        endpoints = AvailableEndpoints(action=EndpointConfig(url=self.action_url), tracker_store=tracker_store)
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
    """Rasa's REST channel (``/webhooks/rest/webhook``) on a server or a cluster behind one URL."""

    def __init__(self, base_url: str, timeout: float = 30.0, client: httpx.AsyncClient | None = None) -> None:
        self.url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def handle(
        self, sender_id: str, text: str, channel: str, metadata: dict[str, Any] | None = None
    ) -> list[Reply]:
        body = {"sender": sender_id, "message": text, "metadata": {"channel": channel, **(metadata or {})}}
        try:
            response = await self._client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise DialogueError(f"Rasa at {self.url} is unreachable: {exc.__class__.__name__}") from exc
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
