"""The Telegram connector as a Rasa input/output channel (``credentials.yml``: ``bots.telegram.TelegramInput``).

The webhook (``POST /webhooks/telegram_gridreach/webhook``) checks ``X-Telegram-Bot-Api-Secret-Token`` before it
reads anything of the body (403 and nothing changes when wrong or missing), reads at most ``max_update_bytes``
(413 above that), reads the Update (400 and nothing changes when it is not one), and hands it to the core; a
failure while handling answers 500 so that Telegram delivers the update again, and an update another process is
still handling answers 503 (delivered again later).

Under ``rasa run`` the core's dialogue is ``bots.rasa_adapter.rasa_dialogue`` (Rasa's ``on_new_message``, each
delivery answered once); the app's embedded runtime passes its own (also ``OnceOnly``), so the core is the same in
both.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bots.rasa_adapter import OnNewMessage, rasa_dialogue
from bots.telegram.config import TelegramSettings
from bots.telegram.runtime import TelegramRuntime
from bots.telegram.updates import MalformedUpdate, UpdateBusy
from campaigns.phrases import phrase
from gridreach.dialogue import Dialogue
from gridreach.http_body import read_capped
from gridreach.settings import Settings
from gridreach.store import Store

__all__ = ["TelegramInput", "TelegramOutput", "webhook_blueprint"]

log = logging.getLogger(__name__)
NAME = "telegram_gridreach"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_blueprint(runtime: TelegramRuntime, name: str = NAME) -> Blueprint:
    """Routes ``GET /`` (health) and ``POST /webhook``; starts and stops the runtime with the server."""
    bp = Blueprint(f"{name}_webhook")
    secret = (runtime.settings.webhook_secret or "").encode()

    @bp.listener("after_server_start")
    async def _start(app: Any, loop: Any) -> None:
        await runtime.start()

    @bp.listener("before_server_stop")
    async def _stop(app: Any, loop: Any) -> None:
        await runtime.stop()

    @bp.route("/", methods=["GET"])
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @bp.route("/webhook", methods=["POST"], stream=True)  # the body is read only once the secret matched
    async def receive(request: Request) -> HTTPResponse:
        given = (request.headers.get(SECRET_HEADER) or "").encode()
        if not secret or not hmac.compare_digest(given, secret):
            return response.json({"error": "forbidden"}, status=403)
        limit = runtime.settings.max_update_bytes
        body = await read_capped(request, limit)
        if body is None:
            return response.json({"error": f"an update is at most {limit} bytes"}, status=413)
        try:
            update = json.loads(body or b"")
        except ValueError:
            return response.json({"error": "the body is not JSON"}, status=400)
        try:
            await runtime.bot.handle_update(update)
        except MalformedUpdate as exc:
            return response.json({"error": str(exc)}, status=400)
        except UpdateBusy:
            return response.json({"error": "being handled, deliver again later"}, status=503,
                                 headers={"Retry-After": str(int(runtime.settings.claim_lease))})
        except Exception as exc:  # answered 500: Telegram delivers the update again, and the claim was released
            log.error("telegram: update handling failed: %s", type(exc).__name__)
            return response.json({"error": "not handled, deliver again"}, status=500)
        return response.json({"ok": True})

    return bp


class TelegramOutput(OutputChannel):
    """Rasa-initiated messages to a person (``telegram:<user id>``), sent paced; buttons degrade to text."""

    def __init__(self, runtime: TelegramRuntime) -> None:
        self.runtime = runtime

    @classmethod
    def name(cls) -> str:
        return NAME

    @staticmethod
    def _chat(recipient_id: str) -> int:
        return int(recipient_id.split(":", 1)[1] if recipient_id.startswith("telegram:") else recipient_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):
            await self.runtime.sender.send_now(self._chat(recipient_id), part)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        handoff = json_message.get("handoff")
        if isinstance(handoff, dict) and handoff.get("phone"):
            note = phrase("telegram.handoff", "zh", name=handoff.get("name") or "", phone=handoff["phone"])
            await self.runtime.sender.send_now(self._chat(recipient_id), note)


class TelegramInput(InputChannel):
    """The Telegram channel; ``dialogue`` given (the app's embedded one) or made from Rasa's handler."""

    def __init__(self, settings: TelegramSettings, store: Store, dialogue: Dialogue | None = None) -> None:
        self.settings, self.store, self.dialogue = settings, store, dialogue
        self.runtime: TelegramRuntime | None = None

    @classmethod
    def name(cls) -> str:
        return NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """From the ``bots.telegram.TelegramInput`` section; the database from ``GRIDREACH_DATABASE_URL``."""
        settings = TelegramSettings.from_mapping(credentials or {})
        return cls(settings, Store.from_url(Settings.from_env().database_url))

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        dialogue = self.dialogue if self.dialogue is not None else rasa_dialogue(on_new_message, self.store)
        self.runtime = TelegramRuntime(self.settings, self.store, dialogue)
        return webhook_blueprint(self.runtime)

    def get_output_channel(self) -> OutputChannel | None:
        return None if self.runtime is None else TelegramOutput(self.runtime)
