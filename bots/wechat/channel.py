"""The Official Account as a Rasa channel, loaded from ``credentials.yml``::

    bots.wechat.WeChatInput:
      app_id: "wx..."
      token: "${WECHAT_TOKEN}"
      app_secret: "${WECHAT_APP_SECRET}"
      encoding_aes_key: "${WECHAT_AES_KEY}"     # optional: safe mode
      api_base_url: "https://api.weixin.qq.com/cgi-bin/"

Rasa mounts the blueprint at ``/webhooks/wechat/`` (configure ``/webhooks/wechat/webhook`` as the account's URL).
The database comes from ``gridreach.settings.Settings.from_env()``. The app's embedded runtime builds the same
parts with ``OfficialAccount.build`` and its own dialogue.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint

from bots.rasa_adapter import OnNewMessage, rasa_dialogue
from bots.wechat.api import CallbackCodec, OfficialAccountAPI
from bots.wechat.bot import CHANNEL, OfficialAccountBot
from bots.wechat.config import OfficialAccountSettings
from bots.wechat.ports import CustomerService
from bots.wechat.sender import ServiceSender
from bots.wechat.webhook import webhook_blueprint
from gridreach.dialogue import Dialogue
from gridreach.errors import ConfigError
from gridreach.identity import parse_sender_id
from gridreach.settings import Settings
from gridreach.store import Store

__all__ = ["OfficialAccount", "WeChatInput", "WeChatOutput", "check_mode"]

log = logging.getLogger(__name__)


def check_mode(settings: OfficialAccountSettings, production: bool) -> None:
    """Plaintext mode (no EncodingAESKey: callback bodies are not signed) is refused in production, warned about
    elsewhere."""
    if settings.safe_mode:
        return
    if production:
        raise ConfigError("encoding_aes_key", "is required when GRIDREACH_ENV=production: in plaintext mode a "
                          "callback's body is not signed. Switch the account to safe mode (安全模式) and configure "
                          "its EncodingAESKey")
    log.warning("wechat: plaintext mode (no encoding_aes_key): callback bodies are not signed; replayed nonces are "
                "refused, but use safe mode in production")


@dataclass
class OfficialAccount:
    """The wired parts of one Official Account: the core, its codec, its customer-service sender."""

    bot: OfficialAccountBot
    codec: CallbackCodec
    service: ServiceSender

    @classmethod
    def build(cls, store: Store, dialogue: Dialogue, settings: OfficialAccountSettings,
              api: CustomerService | None = None, *, production: bool = False) -> OfficialAccount:
        """``dialogue`` must answer a message once (wrap it in ``gridreach.dialogue.OnceOnly``). Plaintext mode
        (no EncodingAESKey) is refused in production and warned about elsewhere: its bodies are not signed."""
        check_mode(settings, production)
        service = ServiceSender(store, api or OfficialAccountAPI(settings), settings)
        return cls(OfficialAccountBot(store, dialogue, settings, service), CallbackCodec(settings), service)

    def blueprint(self, name: str = "wechat_webhook") -> Blueprint:
        return webhook_blueprint(self.bot, self.codec, name)


class WeChatOutput(OutputChannel):
    """Messages Rasa sends on its own (reminders, triggered intents): queued as customer-service messages."""

    def __init__(self, service: ServiceSender) -> None:
        self.service = service

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        sender = parse_sender_id(recipient_id)
        if sender.channel != CHANNEL or sender.external_id is None:
            raise ValueError("a WeChat message needs a wechat:<openid> recipient")
        await asyncio.to_thread(self.service.enqueue, sender.external_id, text, f"out:{uuid.uuid4().hex}")
        await self.service.drain()


class WeChatInput(InputChannel):
    """Rasa input channel of a WeChat Official Account (``bots.wechat.WeChatInput`` in credentials.yml)."""

    def __init__(self, settings: OfficialAccountSettings, store: Store, api: CustomerService | None = None,
                 *, production: bool = False) -> None:
        check_mode(settings, production)  # at start, before Rasa serves anything
        self.settings = settings
        self.store = store
        self.api = api
        self.production = production
        self.account: OfficialAccount | None = None

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        settings = OfficialAccountSettings.from_mapping(credentials)
        core = Settings.from_env()
        return cls(settings, Store.from_url(core.database_url), production=core.production)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        dialogue = rasa_dialogue(on_new_message, self.store)
        self.account = OfficialAccount.build(self.store, dialogue, self.settings, self.api,
                                             production=self.production)
        return self.account.blueprint("wechat_webhook")

    def get_output_channel(self) -> OutputChannel | None:
        if self.account is None:
            return None
        return WeChatOutput(self.account.service)
