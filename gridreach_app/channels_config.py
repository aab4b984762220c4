"""Which channels `gridreach serve` and the worker commands use, read once from the environment and a YAML file.

Each channel is on when it has any setting, off when it has none; a channel with some settings but a missing or
bad one stops start-up with ``ConfigError`` naming the variable (``GRIDREACH_TELEGRAM_TOKEN``) or the file key
(``channels.yml: telegram.token``). Secrets never appear in a ``repr``.

The file (``--channels FILE`` or ``GRIDREACH_CHANNELS``) has one section per channel, the keys of the connector's
own settings; ``${VAR}`` is replaced by the environment variable (unset: an error naming it). Rasa's
``credentials.yml`` works as it is: its ``bots.telegram.TelegramInput`` / ``bots.wechat.WeChatInput`` sections are
read as ``telegram`` / ``wechat``, the REST channels are ignored. Environment variables win over the file::

    telegram: {token: "${TELEGRAM_BOT_TOKEN}", bot_username: gridreach_bot, mode: polling}
    wechat:   {app_id: wx..., token: "${WECHAT_TOKEN}", app_secret: "${WECHAT_APP_SECRET}"}
    wecom:    {corp_id: ww..., corp_secret: "${WECOM_SECRET}", robots: {building-3: "${ROBOT_B3}"}}

Voice is configured by its ``GRIDREACH_TWILIO_*`` / ``GRIDREACH_VOICE_*`` variables (``voice_caller.config``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bots.telegram.config import TelegramSettings
from bots.wechat.config import OfficialAccountSettings, WeComSettings
from gridreach.errors import ConfigError
from voice_caller.config import ENV_KEYS as VOICE_ENV_KEYS
from voice_caller.config import VoiceSettings

__all__ = ["ENV_KEYS", "ChannelsConfig", "load_channels"]

# section -> setting -> environment variables (the first one set wins)
ENV_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "telegram": {
        "token": ("GRIDREACH_TELEGRAM_TOKEN", "TELEGRAM_BOT_TOKEN"),
        "bot_username": ("GRIDREACH_TELEGRAM_BOT",),
        "mode": ("GRIDREACH_TELEGRAM_MODE",),
        "webhook_url": ("GRIDREACH_TELEGRAM_WEBHOOK_URL",),
        "webhook_secret": ("GRIDREACH_TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_SECRET"),
        "base_url": ("GRIDREACH_TELEGRAM_API_URL",),
        "base_file_url": ("GRIDREACH_TELEGRAM_FILE_URL",),
    },
    "wechat": {
        "app_id": ("GRIDREACH_WECHAT_APP_ID",),
        "token": ("GRIDREACH_WECHAT_TOKEN",),
        "app_secret": ("GRIDREACH_WECHAT_APP_SECRET",),
        "encoding_aes_key": ("GRIDREACH_WECHAT_AES_KEY",),
        "api_base_url": ("GRIDREACH_WECHAT_API_URL",),
    },
    "wecom": {
        "corp_id": ("GRIDREACH_WECOM_CORP_ID",),
        "corp_secret": ("GRIDREACH_WECOM_CORP_SECRET",),
        "agent_id": ("GRIDREACH_WECOM_AGENT_ID",),
        "api_base_url": ("GRIDREACH_WECOM_API_URL",),
        "robots": ("GRIDREACH_WECOM_ROBOTS",),  # name=key,name=key
    },
}
FILE_ENV = "GRIDREACH_CHANNELS"
SECTION_ALIASES = {"bots.telegram.TelegramInput": "telegram", "bots.wechat.WeChatInput": "wechat"}
IGNORED_SECTIONS = ("rest", "dialogs.channel.TokenRestInput")  # Rasa's REST channels, not connectors
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ROBOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class ChannelsConfig:
    """The settings of each channel that is on (None: off), and where `serve` listens."""

    telegram: TelegramSettings | None = None
    wechat: OfficialAccountSettings | None = None
    wecom: WeComSettings | None = None
    voice: VoiceSettings | None = None
    host: str = "127.0.0.1"
    port: int = 5005
    source: str | None = field(default=None, compare=False)  # the file read, if any

    @property
    def on(self) -> list[str]:
        """The names of the channels that are on."""
        return [name for name in ("telegram", "wechat", "wecom", "voice") if getattr(self, name) is not None]

    def __repr__(self) -> str:
        return f"ChannelsConfig(on={self.on}, host={self.host!r}, port={self.port}, source={self.source!r})"

    __str__ = __repr__


def load_channels(environ: Mapping[str, str] | None = None, path: Path | str | None = None,
                  home: Path = Path("var")) -> ChannelsConfig:
    """Read and validate every channel's settings; ``path`` (else ``GRIDREACH_CHANNELS``) is the optional file."""
    env = os.environ if environ is None else environ
    file = Path(path) if path else (Path(env[FILE_ENV]) if env.get(FILE_ENV, "").strip() else None)
    sections = _read_file(file, env) if file is not None else {}
    where = f"{file.name}: " if file is not None else ""
    values: dict[str, Any] = {"source": str(file) if file is not None else None}
    for name, keys in ENV_KEYS.items():
        data, sources = dict(sections.get(name, {})), {k: f"{where}{name}.{k}" for k in sections.get(name, {})}
        from_env = False
        for key, variables in keys.items():
            variable = next((v for v in variables if env.get(v, "").strip()), None)
            if variable is not None:
                value = env[variable].strip()
                data[key] = _robots(variable, value) if key == "robots" else value
                sources[key], from_env = variable, True
        if name in sections or from_env:
            values[name] = _build(name, data, sources, f"{where}{name}." if name in sections else None)
    if any(env.get(v, "").strip() for variables in VOICE_ENV_KEYS.values() for v in variables
           if v not in ("GRIDREACH_SPEECH_MODELS", "GRIDREACH_TTS_CACHE")):
        values["voice"] = VoiceSettings.from_env(env, home=home)
    values["host"], values["port"] = _listen(env)
    return ChannelsConfig(**values)


def _build(section: str, data: dict[str, Any], sources: dict[str, str], in_file: str | None) -> Any:
    """The connector's settings; a ``ConfigError`` names where the value came from (or belongs, when missing)."""
    try:
        if section == "telegram":
            return TelegramSettings.from_mapping(data)
        if section == "wechat":
            return OfficialAccountSettings.from_mapping(data)
        return WeComSettings.from_mapping(data)
    except ConfigError as exc:
        head = exc.key.split(".", 1)[0]
        named = sources.get(exc.key) or sources.get(head)
        if named is None:
            variable = ENV_KEYS[section].get(head, (None,))[0]
            named = f"{in_file}{head}" if in_file is not None or variable is None else variable
            if in_file is None and variable is None:
                named = f"{section}.{head}"
            elif in_file is not None and variable is not None:
                named += f" (or {variable})"
        elif head == "robots" and exc.key != head:
            named = f"{named} ({exc.key})"
        raise ConfigError(named, exc.reason) from None


def _robots(variable: str, value: str) -> dict[str, str]:
    """``building-3=KEY,building-4=KEY`` → ``{"building-3": "KEY", ...}``."""
    robots: dict[str, str] = {}
    for pair in value.split(","):
        name, sep, key = (part.strip() for part in pair.partition("="))
        if not sep or not _ROBOT_NAME.match(name) or not key:
            raise ConfigError(variable, "must be name=key pairs separated by commas (robot names: letters, "
                                        "digits, - _ .)")
        robots[name] = key
    return robots


def _listen(env: Mapping[str, str]) -> tuple[str, int]:
    host = env.get("GRIDREACH_SERVE_HOST", "").strip() or "127.0.0.1"
    text = env.get("GRIDREACH_SERVE_PORT", "").strip() or "5005"
    try:
        port = int(text)
    except ValueError:
        raise ConfigError("GRIDREACH_SERVE_PORT", "must be an integer") from None
    if not 0 <= port <= 65535:
        raise ConfigError("GRIDREACH_SERVE_PORT", "must be between 0 and 65535")
    return host, port


def _read_file(path: Path, env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(str(path), f"is not valid YAML{line}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(str(path), "must map channel names (telegram, wechat, wecom) to their settings")
    sections: dict[str, dict[str, Any]] = {}
    for name, body in raw.items():
        section = SECTION_ALIASES.get(str(name), str(name))
        if section in IGNORED_SECTIONS:
            continue
        if section not in ENV_KEYS:
            raise ConfigError(f"{path.name}: {name}", "is not a channel (telegram, wechat, wecom)")
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ConfigError(f"{path.name}: {section}", "must be a mapping of settings")
        sections[section] = {str(k): _substitute(v, env, f"{path.name}: {section}.{k}") for k, v in body.items()}
    return sections


def _substitute(value: Any, env: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigError(name, f"is not set (used by {where})")
            return env[name]

        return _VAR.sub(one, value)
    if isinstance(value, dict):
        return {str(k): _substitute(v, env, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, env, where) for v in value]
    return value
