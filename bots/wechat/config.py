"""Frozen, validated settings of the WeChat Official Account and WeCom connectors.

Built from a mapping (the connector's section of ``credentials.yml``, where Rasa substitutes ``${ENV}`` values, or
the app's own configuration). A missing or bad value raises ``ConfigError`` naming the key; secrets (token, AppSecret,
EncodingAESKey, corp secret, robot keys) never appear in a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from gridreach.errors import ConfigError

__all__ = ["APPCHAT", "OA_ENV_KEYS", "ROBOT", "WECOM_ENV_KEYS", "OfficialAccountSettings", "WeComSettings", "robots_from_env"]

ROBOT, APPCHAT = "wecom_robot", "wecom_appchat"  # the outbox / group channels of WeCom robots and app chats

# setting -> environment variables that set it under `gridreach serve` (the first one set wins)
OA_ENV_KEYS: dict[str, tuple[str, ...]] = {
    "app_id": ("GRIDREACH_WECHAT_APP_ID",),
    "token": ("GRIDREACH_WECHAT_TOKEN",),
    "app_secret": ("GRIDREACH_WECHAT_APP_SECRET",),
    "encoding_aes_key": ("GRIDREACH_WECHAT_AES_KEY",),
    "api_base_url": ("GRIDREACH_WECHAT_API_URL",),
}
WECOM_ENV_KEYS: dict[str, tuple[str, ...]] = {
    "corp_id": ("GRIDREACH_WECOM_CORP_ID",),
    "corp_secret": ("GRIDREACH_WECOM_CORP_SECRET",),
    "agent_id": ("GRIDREACH_WECOM_AGENT_ID",),
    "api_base_url": ("GRIDREACH_WECOM_API_URL",),
    "robots": ("GRIDREACH_WECOM_ROBOTS",),  # name=key,name=key
}
_ROBOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

OA_API = "https://api.weixin.qq.com/cgi-bin/"
WECOM_API = "https://qyapi.weixin.qq.com/cgi-bin/"


def _base_url(key: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(key, "must be an http:// or https:// URL")
    return value if value.endswith("/") else value + "/"


def _text(data: Mapping[str, Any], key: str, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None or str(value).strip() == "":
        if required:
            raise ConfigError(key, "is required")
        return None
    return str(value).strip()


def _number(data: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = data.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(key, "must be a number") from None
    if not low <= number <= high:
        raise ConfigError(key, f"must be between {low:g} and {high:g}")
    return number


@dataclass(frozen=True)
class OfficialAccountSettings:
    """One WeChat Official Account (公众号). ``encoding_aes_key`` set = safe mode: plaintext callbacks are refused."""

    app_id: str
    token: str = field(repr=False)
    app_secret: str = field(repr=False)
    encoding_aes_key: str | None = field(default=None, repr=False)
    api_base_url: str = OA_API
    reply_deadline: float = 4.5  # seconds: WeChat waits 5 s for a passive reply, then retries
    max_text_chars: int = 600
    service_window: timedelta = timedelta(hours=48)
    service_limit: int = 5
    max_clock_skew: float = 300.0  # seconds a callback's timestamp may be off (plaintext signatures omit the body)
    http_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.app_id.startswith("wx") or len(self.app_id) < 6:
            raise ConfigError("app_id", "must be the AppID of the account (starts with wx)")
        if not 3 <= len(self.token) <= 32 or not self.token.isalnum():
            raise ConfigError("token", "must be 3 to 32 letters or digits")
        if not self.app_secret:
            raise ConfigError("app_secret", "is required")
        if self.encoding_aes_key is not None:
            try:
                key = base64.b64decode(self.encoding_aes_key + "=", validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if len(self.encoding_aes_key) != 43 or len(key) != 32:
                raise ConfigError("encoding_aes_key", "must be the 43-character EncodingAESKey")
        object.__setattr__(self, "api_base_url", _base_url("api_base_url", self.api_base_url))
        if not 0.1 <= self.reply_deadline <= 4.8:
            raise ConfigError("reply_deadline", "must be between 0.1 and 4.8 seconds (WeChat waits 5)")
        if self.service_limit < 0:
            raise ConfigError("service_limit", "must not be negative")
        if self.max_text_chars < 1:
            raise ConfigError("max_text_chars", "must be positive")

    @property
    def safe_mode(self) -> bool:
        return self.encoding_aes_key is not None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> OfficialAccountSettings:
        """From a ``credentials.yml`` section: app_id, token, app_secret, encoding_aes_key, api_base_url, ..."""
        data = data or {}
        return cls(
            app_id=_text(data, "app_id") or "",
            token=_text(data, "token") or "",
            app_secret=_text(data, "app_secret") or "",
            encoding_aes_key=_text(data, "encoding_aes_key", required=False),
            api_base_url=_text(data, "api_base_url", required=False) or OA_API,
            reply_deadline=_number(data, "reply_deadline", 4.5, 0.1, 4.8),
            max_text_chars=int(_number(data, "max_text_chars", 600, 1, 2000)),
            service_window=timedelta(hours=_number(data, "service_window_hours", 48, 0, 48)),
            service_limit=int(_number(data, "service_limit", 5, 0, 100)),
            max_clock_skew=_number(data, "max_clock_skew", 300, 1, 86400),
            http_timeout=_number(data, "http_timeout", 10, 0.1, 120),
        )


@dataclass(frozen=True)
class WeComSettings:
    """WeCom (企业微信): the app (corp id, secret, agent id) for app group chats, and group robots by name.

    ``robot_keys`` maps the name an operator registered a group robot under to its webhook key; the database holds
    only the name.
    """

    corp_id: str | None = None
    corp_secret: str | None = field(default=None, repr=False)
    agent_id: int | None = None
    api_base_url: str = WECOM_API
    robot_keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    robot_per_minute: int = 20
    robot_window: float = 60.0  # seconds of WeCom's "20 a minute" window (shorter only in tests)
    http_timeout: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_base_url", _base_url("api_base_url", self.api_base_url))
        if self.robot_window <= 0:
            raise ConfigError("robot_window", "must be positive")
        object.__setattr__(self, "robot_keys", MappingProxyType(dict(self.robot_keys)))
        if (self.corp_id is None) != (self.corp_secret is None):
            raise ConfigError("corp_secret" if self.corp_id else "corp_id", "corp_id and corp_secret go together")
        for name, key in self.robot_keys.items():
            if not name or not key or any(c.isspace() for c in key):
                raise ConfigError(f"robots.{name}", "must be a robot webhook key")
        if not 1 <= self.robot_per_minute <= 20:
            raise ConfigError("robot_per_minute", "must be between 1 and 20 (WeCom allows 20 a minute)")

    @property
    def robots(self) -> list[str]:
        """The configured robot names (never their keys)."""
        return sorted(self.robot_keys)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> WeComSettings:
        """From a mapping: corp_id, corp_secret, agent_id, api_base_url, robots: {name: key}."""
        data = data or {}
        agent = data.get("agent_id")
        try:
            agent_id = None if agent in (None, "") else int(agent)
        except (TypeError, ValueError):
            raise ConfigError("agent_id", "must be an integer") from None
        robots = data.get("robots") or {}
        if not isinstance(robots, Mapping):
            raise ConfigError("robots", "must map robot names to webhook keys")
        return cls(
            corp_id=_text(data, "corp_id", required=False),
            corp_secret=_text(data, "corp_secret", required=False),
            agent_id=agent_id,
            api_base_url=_text(data, "api_base_url", required=False) or WECOM_API,
            robot_keys={str(k): str(v).strip() for k, v in robots.items()},
            robot_per_minute=int(_number(data, "robot_per_minute", 20, 1, 20)),
            http_timeout=_number(data, "http_timeout", 10, 0.1, 120),
        )


def robots_from_env(variable: str, value: str) -> dict[str, str]:
    """``building-3=KEY,building-4=KEY`` (``GRIDREACH_WECOM_ROBOTS``) → ``{"building-3": "KEY", ...}``."""
    robots: dict[str, str] = {}
    for pair in value.split(","):
        name, sep, key = (part.strip() for part in pair.partition("="))
        if not sep or not _ROBOT_NAME.match(name) or not key:
            raise ConfigError(variable, "must be name=key pairs separated by commas (robot names: letters, "
                                        "digits, - _ .)")
        robots[name] = key
    return robots
