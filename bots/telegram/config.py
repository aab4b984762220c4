"""Frozen, validated settings of the Telegram connector.

Built from a mapping (the connector's section of ``credentials.yml``, where Rasa substitutes ``${ENV}`` values) with
``TelegramSettings.from_mapping``. A missing or bad value raises ``ConfigError`` naming the key; the token and the
webhook secret never appear in a ``repr``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bots.pacing import Limit
from gridreach.errors import ConfigError

__all__ = ["ENV_KEYS", "TelegramSettings"]

# setting -> environment variables that set it under `gridreach serve` (the first one set wins)
ENV_KEYS: dict[str, tuple[str, ...]] = {
    "token": ("GRIDREACH_TELEGRAM_TOKEN", "TELEGRAM_BOT_TOKEN"),
    "bot_username": ("GRIDREACH_TELEGRAM_BOT",),
    "mode": ("GRIDREACH_TELEGRAM_MODE",),
    "webhook_url": ("GRIDREACH_TELEGRAM_WEBHOOK_URL",),
    "webhook_secret": ("GRIDREACH_TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_SECRET"),
    "base_url": ("GRIDREACH_TELEGRAM_API_URL",),
    "base_file_url": ("GRIDREACH_TELEGRAM_FILE_URL",),
}

API_BASE = "https://api.telegram.org/bot"
FILE_BASE = "https://api.telegram.org/file/bot"
MODES = ("webhook", "polling")
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
# Telegram's documented limits: ~30 messages/s overall, 1/s per chat, 20/min per group
OVERALL, PER_CHAT, PER_GROUP = Limit(30, 1.0), Limit(1, 1.0), Limit(20, 60.0)


def _limit(key: str, value: Any) -> Limit:
    """``[count, seconds]`` or ``{"count": .., "seconds": ..}``."""
    try:
        if isinstance(value, Mapping):
            return Limit(int(value["count"]), float(value["seconds"]))
        count, seconds = value
        return Limit(int(count), float(seconds))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(key, f"must be [count, seconds] with count >= 1 and seconds > 0 ({exc})") from None


def _user_ids(value: Any) -> tuple[int, ...]:
    """``[123, 456]`` or ``"123, 456"`` (an environment variable substituted into credentials.yml)."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    try:
        return tuple(int(str(item).strip()) for item in items)
    except (TypeError, ValueError):
        raise ConfigError("admin_user_ids", "must be a list of Telegram user ids, e.g. [123456789]") from None


@dataclass(frozen=True)
class TelegramSettings:
    """Everything the Telegram connector needs. Limits default to Telegram's documented ones."""

    token: str = field(repr=False)
    bot_username: str
    base_url: str = API_BASE
    base_file_url: str = FILE_BASE
    mode: str = "webhook"
    webhook_url: str | None = None  # the public URL Telegram posts to (setWebhook); None: set it elsewhere
    webhook_secret: str | None = field(default=None, repr=False)
    overall: Limit = OVERALL
    per_chat: Limit = PER_CHAT
    per_group: Limit = PER_GROUP
    max_answer_chars: int = 500
    send_attempts: int = 5  # 5xx / network failures before a message is given up (429s do not count)
    retry_backoff: float = 2.0  # seconds before the first retry, doubled each time
    poll_timeout: int = 30
    # Telegram user ids of administrators: they may bind any group to any grid (also one bound elsewhere)
    admin_user_ids: tuple[int, ...] = ()
    claim_lease: float = 120.0  # seconds an update's claim holds; a handler killed mid-update loses it after this
    max_update_bytes: int = 256 * 1024  # a webhook body above this is refused (413) before it is read

    def __post_init__(self) -> None:
        if not _TOKEN.match(self.token or ""):
            raise ConfigError("token", "must look like 123456:ABC-DEF (from @BotFather)")
        if not _USERNAME.match(self.bot_username.lstrip("@") if self.bot_username else ""):
            raise ConfigError("bot_username", "must be the bot's username, e.g. gridreach_bot")
        object.__setattr__(self, "bot_username", self.bot_username.lstrip("@"))
        for key in ("base_url", "base_file_url", "webhook_url"):
            value = getattr(self, key)
            if value is not None and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
                raise ConfigError(key, "must be an http:// or https:// URL")
        if self.mode not in MODES:
            raise ConfigError("mode", f"must be one of {', '.join(MODES)}")
        if self.webhook_secret is not None and not _SECRET.match(self.webhook_secret):
            raise ConfigError("webhook_secret", "must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        if self.mode == "webhook" and self.webhook_secret is None:
            raise ConfigError("webhook_secret", "is required in webhook mode (Telegram sends it with every update)")
        if not 1 <= self.max_answer_chars <= 4096:
            raise ConfigError("max_answer_chars", "must be between 1 and 4096")
        if self.send_attempts < 1:
            raise ConfigError("send_attempts", "must be at least 1")
        if self.retry_backoff < 0:
            raise ConfigError("retry_backoff", "must not be negative")
        if not 0 <= self.poll_timeout <= 50:
            raise ConfigError("poll_timeout", "must be between 0 and 50 seconds")
        if any(isinstance(i, bool) or not isinstance(i, int) or i <= 0 for i in self.admin_user_ids):
            raise ConfigError("admin_user_ids", "must be Telegram user ids (positive integers)")
        if self.claim_lease <= 0:
            raise ConfigError("claim_lease", "must be a positive number of seconds")
        if not 1024 <= self.max_update_bytes <= 16 * 1024 * 1024:
            raise ConfigError("max_update_bytes", "must be between 1024 and 16777216")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TelegramSettings:
        """From a ``credentials.yml`` section; unknown keys are refused (a typo must not pass unnoticed)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(unknown[0], "is not a Telegram setting")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value is None or (isinstance(value, str) and value.strip() == ""):
                continue
            if key in ("overall", "per_chat", "per_group"):
                values[key] = _limit(key, value)
            elif key == "admin_user_ids":
                values[key] = _user_ids(value)
            elif key in ("max_answer_chars", "send_attempts", "poll_timeout", "max_update_bytes"):
                try:
                    values[key] = int(value)
                except (TypeError, ValueError):
                    raise ConfigError(key, "must be an integer") from None
            elif key in ("retry_backoff", "claim_lease"):
                try:
                    values[key] = float(value)
                except (TypeError, ValueError):
                    raise ConfigError(key, "must be a number") from None
            else:
                values[key] = str(value).strip()
        for key in ("token", "bot_username"):
            if key not in values:
                raise ConfigError(key, "is required")
        return cls(**values)
