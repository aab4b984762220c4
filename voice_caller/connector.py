"""The voice caller as a GridReach connector (``CONNECTOR``): its settings are its ``GRIDREACH_TWILIO_*`` /
``GRIDREACH_VOICE_*`` variables (``voice_caller.config``); under `gridreach serve` it runs Twilio's webhooks (aiohttp,
on ``GRIDREACH_VOICE_PORT``). It reaches one resident by calling them (`gridreach call`), not by a message, and no
group: ``send`` is None and notices pass it by.

Importing this module imports neither Rasa nor the speech stack: ``start`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gridreach.connector import Announced, Serving, Started, WithoutGroups
from gridreach.errors import ConfigError
from gridreach.store import Store
from voice_caller.config import ENV_KEYS, VoiceSettings

__all__ = ["CONNECTOR", "VoiceConnector"]

_NOT_CHANNEL_SETTINGS = ("GRIDREACH_SPEECH_MODELS", "GRIDREACH_TTS_CACHE")  # alone, they do not turn voice on


class VoiceConnector(WithoutGroups):
    name = "voice"
    aliases: tuple[str, ...] = ()
    outbox_channels: tuple[str, ...] = ()

    def read_settings(self, section: Mapping[str, Any] | None, env: Mapping[str, str], home: Path,
                      where: str) -> VoiceSettings | None:
        if section is not None:
            raise ConfigError(where.rstrip("."), "is configured by the GRIDREACH_TWILIO_* / GRIDREACH_VOICE_* "
                                                 "variables, not in a file (docs/OPERATIONS.md, Voice)")
        if any(env.get(v, "").strip() for variables in ENV_KEYS.values() for v in variables
               if v not in _NOT_CHANNEL_SETTINGS):
            return VoiceSettings.from_env(env, home=home)
        return None

    async def start(self, serving: Serving, settings: VoiceSettings) -> Started:
        from voice_caller.assemble import assemble

        parts = assemble(settings, serving.store, serving.dialogue)
        try:
            port = await parts.server.start()
        except OSError as exc:
            parts.close()
            raise ConfigError("GRIDREACH_VOICE_PORT", f"cannot listen on {settings.listen_host}:"
                                                      f"{settings.listen_port} ({exc.strerror})") from None

        async def close() -> None:
            await parts.server.stop()
            parts.close()

        return Started(f"webhooks on {settings.listen_host}:{port} "
                       f"(Twilio reaches them at {settings.public_base_url}/voice/...)", closers=[close])

    def announce_screening(self, store: Store, settings: Any, campaign_id: int, grid: str, title: str,
                           token: str) -> Announced:
        return Announced(f"voice: gridreach call --campaign {campaign_id} --phone <resident's phone>")


CONNECTOR = VoiceConnector()
