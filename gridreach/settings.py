"""Typed, frozen settings, validated once at start-up.

``Settings.from_env()`` is the only place that reads the environment; everything else
receives a ``Settings`` object. A bad value raises ``ConfigError`` naming the key.
Passwords in URLs never appear in ``repr``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gridreach.errors import ConfigError

__all__ = ["LANGUAGES", "Settings", "mask_url"]

LANGUAGES = ("zh", "en", "ko")
DIALOGUE_MODES = ("embedded", "remote")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ENVIRONMENTS = ("development", "test", "production")
DB_SCHEMES = ("sqlite", "postgresql")
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# field name -> environment variable(s), first one set wins
ENV_KEYS: dict[str, tuple[str, ...]] = {
    "home": ("GRIDREACH_HOME",),
    "database_url": ("GRIDREACH_DATABASE_URL", "DATABASE_URL"),
    "dialogue_mode": ("GRIDREACH_DIALOGUE",),
    "rasa_url": ("GRIDREACH_RASA_URL",),
    "action_server_port": ("GRIDREACH_ACTION_PORT",),
    "action_server_host": ("GRIDREACH_ACTION_HOST",),
    "action_token": ("GRIDREACH_ACTION_TOKEN",),
    "rasa_token": ("GRIDREACH_RASA_TOKEN",),
    "model_dir": ("GRIDREACH_MODEL_DIR",),
    "default_language": ("GRIDREACH_LANGUAGE",),
    "log_level": ("GRIDREACH_LOG_LEVEL",),
    "environment": ("GRIDREACH_ENV",),
}


def mask_url(url: str | None) -> str | None:
    """Replace the password of ``scheme://user:password@host/...`` by ``***``."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    if ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostinfo}"))


@dataclass(frozen=True)
class Settings:
    """Everything GridReach needs to start; build it with ``from_env`` or directly."""

    home: Path = Path("var")
    database_url: str = field(default="", repr=False)
    dialogue_mode: str = "embedded"
    rasa_url: str | None = field(default=None, repr=False)
    action_server_port: int = 5055
    #: Where an action server listens; 127.0.0.1 unless an operator runs it behind its own network boundary.
    action_server_host: str = "127.0.0.1"
    #: The shared secret Rasa sends to the action server; the embedded default makes one per run when unset.
    action_token: str | None = field(default=None, repr=False)
    #: Rasa's ``--auth-token`` and the GridReach REST channel's token (``credentials.yml``), for remote mode.
    rasa_token: str | None = field(default=None, repr=False)
    model_dir: Path = PROJECT_ROOT / "models"
    default_language: str = "zh"
    log_level: str = "INFO"
    #: ``production`` refuses what is only acceptable on a laptop (WeChat plaintext callbacks, ...).
    environment: str = "development"

    def __post_init__(self) -> None:
        home = Path(self.home)
        object.__setattr__(self, "home", home)
        object.__setattr__(self, "model_dir", Path(self.model_dir))
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{home / 'gridreach.db'}")
        object.__setattr__(self, "log_level", str(self.log_level).upper())
        self._validate()

    def _validate(self) -> None:
        scheme = self.database_url.split("://", 1)[0] if "://" in self.database_url else ""
        if scheme.split("+", 1)[0] not in DB_SCHEMES:
            raise ConfigError("database_url", "must start with sqlite:// or postgresql://")
        if self.dialogue_mode not in DIALOGUE_MODES:
            raise ConfigError("dialogue_mode", f"must be one of {', '.join(DIALOGUE_MODES)}")
        if self.dialogue_mode == "remote":
            if not self.rasa_url:
                raise ConfigError("rasa_url", "is required when dialogue_mode is remote")
            if urlsplit(self.rasa_url).scheme not in ("http", "https"):
                raise ConfigError("rasa_url", "must be an http:// or https:// URL")
        if isinstance(self.action_server_port, bool) or not isinstance(self.action_server_port, int):
            raise ConfigError("action_server_port", "must be an integer")
        if not 1 <= self.action_server_port <= 65535:
            raise ConfigError("action_server_port", "must be between 1 and 65535")
        for name in ("action_token", "rasa_token"):
            secret = getattr(self, name)
            if secret is not None and len(secret) < 16:
                raise ConfigError(name, "must be at least 16 characters (make one: openssl rand -hex 32)")
        if self.default_language not in LANGUAGES:
            raise ConfigError("default_language", f"must be one of {', '.join(LANGUAGES)}")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError("log_level", f"must be one of {', '.join(LOG_LEVELS)}")
        if self.environment not in ENVIRONMENTS:
            raise ConfigError("environment", f"must be one of {', '.join(ENVIRONMENTS)}")

    def __repr__(self) -> str:
        return (
            f"Settings(home={str(self.home)!r}, database_url={mask_url(self.database_url)!r}, "
            f"dialogue_mode={self.dialogue_mode!r}, rasa_url={mask_url(self.rasa_url)!r}, "
            f"action_server_port={self.action_server_port}, model_dir={str(self.model_dir)!r}, "
            f"default_language={self.default_language!r}, log_level={self.log_level!r})"
        )

    __str__ = __repr__

    @property
    def production(self) -> bool:
        """``GRIDREACH_ENV=production``."""
        return self.environment == "production"

    @property
    def database_url_masked(self) -> str:
        """The database URL with its password hidden, safe to log or print."""
        return mask_url(self.database_url) or ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate settings from ``environ`` (default: ``os.environ``)."""
        env = os.environ if environ is None else environ
        raw: dict[str, str] = {}
        source: dict[str, str] = {}
        for name, keys in ENV_KEYS.items():
            for key in keys:
                value = env.get(key)
                if value is not None and value.strip() != "":
                    raw[name] = value.strip()
                    source[name] = key
                    break
        values: dict[str, object] = {}
        if "home" in raw:
            values["home"] = Path(raw["home"]).expanduser()
        if "model_dir" in raw:
            values["model_dir"] = Path(raw["model_dir"]).expanduser()
        for name in ("database_url", "dialogue_mode", "rasa_url", "default_language", "log_level", "environment",
                     "action_server_host", "action_token", "rasa_token"):
            if name in raw:
                values[name] = raw[name].lower() if name == "dialogue_mode" else raw[name]
        if "action_server_port" in raw:
            try:
                values["action_server_port"] = int(raw["action_server_port"])
            except ValueError:
                raise ConfigError(source["action_server_port"], "must be an integer") from None
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ConfigError as exc:
            key = source.get(exc.key, ENV_KEYS.get(exc.key, (exc.key,))[0])
            raise ConfigError(key, exc.reason) from None

    def replace(self, **changes: object) -> Settings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
