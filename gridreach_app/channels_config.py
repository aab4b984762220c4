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
The channels are the registered connectors (``gridreach_app.connectors``), each reading its own settings; a
section named by a module path (``my_pkg.my_connector:``) loads that connector, as Rasa's ``credentials.yml`` does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gridreach.connector import Connector
from gridreach.errors import ConfigError
from gridreach_app.connectors import connector_from, connectors

__all__ = ["ChannelsConfig", "load_channels"]

FILE_ENV = "GRIDREACH_CHANNELS"
IGNORED_SECTIONS = ("rest", "dialogs.channel.TokenRestInput")  # Rasa's REST channels, not connectors
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ChannelsConfig:
    """The connectors, the settings of each one that is on (``config.telegram``: None when off), and where
    `serve` listens."""

    connectors: tuple[Connector, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)  # connector name -> its settings, when on
    host: str = "127.0.0.1"
    port: int = 5005
    source: str | None = field(default=None, compare=False)  # the file read, if any

    @property
    def on(self) -> list[str]:
        """The names of the channels that are on."""
        return [c.name for c in self.connectors if c.name in self.settings]

    @property
    def off(self) -> list[str]:
        return [c.name for c in self.connectors if c.name not in self.settings]

    def __getattr__(self, name: str) -> Any:
        """A connector's settings by its name (None: off)."""
        if not name.startswith("_") and any(c.name == name for c in self.__dict__.get("connectors", ())):
            return self.settings.get(name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"ChannelsConfig(on={self.on}, host={self.host!r}, port={self.port}, source={self.source!r})"

    __str__ = __repr__


def load_channels(environ: Mapping[str, str] | None = None, path: Path | str | None = None,
                  home: Path = Path("var")) -> ChannelsConfig:
    """Read and validate every connector's settings; ``path`` (else ``GRIDREACH_CHANNELS``) is the optional file."""
    env = os.environ if environ is None else environ
    file = Path(path) if path else (Path(env[FILE_ENV]) if env.get(FILE_ENV, "").strip() else None)
    raw = _read_file(file, env) if file is not None else {}
    found = connectors(environ=env)
    sections: dict[str, dict[str, Any]] = {}
    for name, body in raw.items():
        section = next((c.name for c in found if name == c.name or name in c.aliases), None)
        if section is None and name not in IGNORED_SECTIONS and "." in name:  # a connector by module path
            assert file is not None
            extra = connector_from(name, f"{file.name}: {name}")
            found.append(extra)
            section = extra.name
        if section is None:
            if name in IGNORED_SECTIONS:
                continue
            assert file is not None
            raise ConfigError(f"{file.name}: {name}", f"is not a channel ({', '.join(c.name for c in found)})")
        assert file is not None
        if not isinstance(body, dict):
            raise ConfigError(f"{file.name}: {section}", "must be a mapping of settings")
        sections[section] = {str(k): _substitute(v, env, f"{file.name}: {section}.{k}") for k, v in body.items()}
    settings: dict[str, Any] = {}
    for connector in found:
        section_body = sections.get(connector.name)
        where = f"{connector.name}."
        if section_body is not None and file is not None:
            where = f"{file.name}: {where}"
        value = connector.read_settings(section_body, env, home, where)
        if value is not None:
            settings[connector.name] = value
    host, port = _listen(env)
    return ChannelsConfig(tuple(found), settings, host, port, str(file) if file is not None else None)


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


def _read_file(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
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
    return {str(name): {} if body is None else body for name, body in raw.items()}


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
