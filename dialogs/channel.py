"""GridReach's REST channel for ``rasa run``: Rasa's REST channel behind a token.

Rasa's own ``rest`` channel (``POST /webhooks/rest/webhook``) takes any sender, any text and any metadata from
whoever reaches the port, and even lets the caller name the ``input_channel``; ``--auth-token`` does not cover
channels. ``credentials.yml`` therefore enables this one instead::

    dialogs.channel.TokenRestInput:
      token: ${GRIDREACH_RASA_TOKEN}

at ``POST /webhooks/gridreach/webhook``. The token (``Authorization: Bearer <token>``, or ``?token=``) is compared
in constant time before the body is read; a wrong one is 401, a body over ``MAX_BODY`` is 413. The input channel
is always ``gridreach`` (never the caller's choice, unlike ``rest``): the connector's own channel name travels as metadata ``channel``, which the actions
believe only from channels that authenticate their callers (``dialogs.actions.common.UNTRUSTED_CHANNELS``).
``RemoteDialogue`` (``gridreach_app.dialogue``) speaks it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from dialogs import redact
from dialogs.http_auth import has_token, read_capped
from gridreach.errors import ConfigError

__all__ = ["CHANNEL", "MAX_BODY", "TokenRestInput"]

CHANNEL = "gridreach"
MAX_BODY = 256 * 1024  # one message and its metadata


class TokenRestInput(InputChannel):
    """``rest`` with a shared-secret check first; see the module docstring."""

    def __init__(self, token: str) -> None:
        if token.startswith("${"):
            raise ConfigError("GRIDREACH_RASA_TOKEN", "was not expanded in credentials.yml: write it unquoted "
                                                      "(token: ${GRIDREACH_RASA_TOKEN}) and set the variable")
        if not token or len(token) < 16:
            raise ConfigError("GRIDREACH_RASA_TOKEN", "is required (at least 16 characters) for the GridReach "
                                                      "REST channel (credentials.yml: dialogs.channel.TokenRestInput)")
        self._token = token
        # `rasa run` loads its channels at start: from here on its records and structured events are scrubbed too
        redact.install()
        redact.configure_structlog()

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        return cls(str((credentials or {}).get("token") or ""))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"gridreach_rest_{id(self)}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            if not has_token(request, self._token):
                return response.json({"error": "unauthorised: send the GridReach REST token"}, status=401)
            raw = await read_capped(request, MAX_BODY)
            if raw is None:
                return response.json({"error": f"the message is larger than {MAX_BODY} bytes"}, status=413)
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = None
            if not isinstance(payload, dict) or not isinstance(payload.get("sender"), str) or not isinstance(
                    payload.get("message"), str):
                return response.json({"error": "send a JSON object with sender and message (strings)"}, status=400)
            metadata = payload.get("metadata")
            collector = CollectingOutputChannel()
            await on_new_message(UserMessage(payload["message"], collector, payload["sender"], input_channel=CHANNEL,
                                             metadata=metadata if isinstance(metadata, dict) else None))
            return response.json(collector.messages)

        return hook

