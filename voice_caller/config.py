"""The voice caller's settings: typed, frozen, validated once at start-up.

``VoiceSettings.from_env(environ, home)`` reads the ``GRIDREACH_VOICE_*`` / ``GRIDREACH_TWILIO_*`` variables (the
app passes the mapping; nothing here reads ``os.environ``). A missing or bad value raises ``ConfigError`` naming
the variable. The Twilio account SID and auth token never appear in a ``repr``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gridreach.errors import ConfigError

__all__ = ["ENV_KEYS", "VoiceSettings"]

# field name -> environment variable(s), the first one set wins
ENV_KEYS: dict[str, tuple[str, ...]] = {
    "account_sid": ("GRIDREACH_TWILIO_ACCOUNT_SID", "TWILIO_ACCOUNT_SID"),
    "auth_token": ("GRIDREACH_TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN"),
    "api_base_url": ("GRIDREACH_TWILIO_API_URL",),
    "public_base_url": ("GRIDREACH_VOICE_PUBLIC_URL",),
    "from_number": ("GRIDREACH_VOICE_FROM",),
    "speech_models_dir": ("GRIDREACH_SPEECH_MODELS",),
    "tts_cache_dir": ("GRIDREACH_TTS_CACHE",),
    "max_concurrent_calls": ("GRIDREACH_VOICE_MAX_CALLS",),
    "calls_per_second": ("GRIDREACH_VOICE_CALLS_PER_SECOND",),
    "silence_timeout": ("GRIDREACH_VOICE_SILENCE_TIMEOUT",),
    "max_silent_tries": ("GRIDREACH_VOICE_MAX_SILENT_TRIES",),
    "machine_detection": ("GRIDREACH_VOICE_AMD",),
    "listen_host": ("GRIDREACH_VOICE_HOST",),
    "listen_port": ("GRIDREACH_VOICE_PORT",),
    "call_min_interval": ("GRIDREACH_CALL_MIN_INTERVAL",),
    "stream_start_timeout": ("GRIDREACH_VOICE_STREAM_START_TIMEOUT",),
    "max_streams": ("GRIDREACH_VOICE_MAX_STREAMS",),
    "max_frame_bytes": ("GRIDREACH_VOICE_MAX_FRAME_BYTES",),
    "max_frames_per_second": ("GRIDREACH_VOICE_MAX_FRAMES_PER_SECOND",),
}
REQUIRED = ("account_sid", "auth_token", "public_base_url", "from_number")
_INTS = ("max_concurrent_calls", "max_silent_tries", "listen_port", "max_streams", "max_frame_bytes")
_FLOATS = ("calls_per_second", "silence_timeout", "stream_start_timeout", "max_frames_per_second")
_DURATION_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _http_url(key: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(key, "must be an http:// or https:// URL")
    return value.rstrip("/")


@dataclass(frozen=True)
class VoiceSettings:
    """What the voice caller needs: the Twilio account, where Twilio reaches us, pacing and patience."""

    account_sid: str = field(repr=False)
    auth_token: str = field(repr=False)
    public_base_url: str
    from_number: str
    api_base_url: str = "https://api.twilio.com"
    speech_models_dir: Path = Path("var/speech")
    tts_cache_dir: Path = Path("var/tts-cache")
    max_concurrent_calls: int = 4
    calls_per_second: float = 1.0
    silence_timeout: float = 5.0
    max_silent_tries: int = 6
    machine_detection: bool = True
    listen_host: str = "127.0.0.1"
    listen_port: int = 8089
    digit_timeout: float = 3.0
    call_min_interval: float = 4 * 3600.0  # seconds between two calls to one resident (0: no limit)
    stream_start_timeout: float = 5.0  # a Media Stream that sends no ``start`` in this time is closed
    max_streams: int = 32  # Media Stream websockets open at once
    max_frame_bytes: int = 16384  # one websocket message from Twilio (a media frame is ~400 bytes)
    max_frames_per_second: float = 200.0  # messages per second on one stream (Twilio sends ~50)

    def __post_init__(self) -> None:
        object.__setattr__(self, "speech_models_dir", Path(self.speech_models_dir))
        object.__setattr__(self, "tts_cache_dir", Path(self.tts_cache_dir))
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", self.account_sid or ""):
            raise ConfigError("account_sid", "must be AC followed by 32 hex digits")
        if not self.auth_token:
            raise ConfigError("auth_token", "is required")
        object.__setattr__(self, "api_base_url", _http_url("api_base_url", self.api_base_url))
        object.__setattr__(self, "public_base_url", _http_url("public_base_url", self.public_base_url))
        if not _E164.match(self.from_number or ""):
            raise ConfigError("from_number", "must be an E.164 number such as +8657188888888")
        for name in ("max_concurrent_calls", "max_silent_tries", "max_streams"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(name, "must be a whole number of at least 1")
        if not 1 <= self.listen_port <= 65535:
            raise ConfigError("listen_port", "must be between 1 and 65535")
        for name in ("calls_per_second", "silence_timeout", "digit_timeout", "stream_start_timeout",
                     "max_frames_per_second"):
            if not float(getattr(self, name)) > 0:
                raise ConfigError(name, "must be a positive number")
        if isinstance(self.max_frame_bytes, bool) or not 1024 <= self.max_frame_bytes <= 1 << 20:
            raise ConfigError("max_frame_bytes", "must be between 1024 and 1048576")
        if not float(self.call_min_interval) >= 0:
            raise ConfigError("call_min_interval", "must be a duration of 0 or more (e.g. 4h, 90m, 3600)")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr
        )
        return f"VoiceSettings(account_sid='AC…', auth_token='***', {shown})"

    __str__ = __repr__

    # ---- URLs Twilio calls back ---------------------------------------------------------
    def public_url(self, path_qs: str) -> str:
        """The public URL of one of our webhooks (what Twilio requests and signs)."""
        return self.public_base_url + "/" + path_qs.lstrip("/")

    @property
    def stream_url(self) -> str:
        """The Media Streams websocket URL: the public base with ``wss://`` (or ``ws://`` for plain http)."""
        parts = urlsplit(self.public_url("/voice/stream"))
        return urlunsplit(parts._replace(scheme="wss" if parts.scheme == "https" else "ws"))

    def replace(self, **changes: object) -> VoiceSettings:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str], home: Path = Path("var")) -> VoiceSettings:
        """Read and validate the voice settings; ``home`` is where models and the speech cache default to."""
        raw: dict[str, str] = {}
        source: dict[str, str] = {}
        for name, keys in ENV_KEYS.items():
            for key in keys:
                value = environ.get(key)
                if value is not None and value.strip():
                    raw[name], source[name] = value.strip(), key
                    break
        for name in REQUIRED:
            if name not in raw:
                raise ConfigError(ENV_KEYS[name][0], "is required to place calls (see docs/OPERATIONS.md, Voice)")
        values: dict[str, object] = {
            "speech_models_dir": Path(home) / "speech",
            "tts_cache_dir": Path(home) / "tts-cache",
        }
        try:
            for name, text in raw.items():
                if name == "call_min_interval":
                    values[name] = _duration(source[name], text)
                elif name in _INTS:
                    values[name] = int(text)
                elif name in _FLOATS:
                    values[name] = float(text)
                elif name == "machine_detection":
                    if text.lower() not in _TRUE + _FALSE:
                        raise ConfigError(name, "must be on or off")
                    values[name] = text.lower() in _TRUE
                elif name.endswith("_dir"):
                    values[name] = Path(text).expanduser()
                else:
                    values[name] = text
            return cls(**values)  # type: ignore[arg-type]
        except ValueError:
            bad = next(n for n in raw if n in _INTS + _FLOATS and not _parses(raw[n], n in _INTS))
            raise ConfigError(source[bad], "must be a number") from None
        except ConfigError as exc:
            raise ConfigError(source.get(exc.key, ENV_KEYS.get(exc.key, (exc.key,))[0]), exc.reason) from None


def _duration(key: str, text: str) -> float:
    """Seconds from ``3600``, ``90m``, ``4h`` or ``1d``."""
    unit = _DURATION_UNITS.get(text[-1:].lower())
    try:
        value = float(text[:-1] if unit else text) * (unit or 1.0)
    except ValueError:
        raise ConfigError(key, "must be a duration such as 4h, 90m or 3600 (seconds)") from None
    if not value >= 0:
        raise ConfigError(key, "must be a duration of 0 or more (e.g. 4h, 90m, 3600)")
    return value


def _parses(text: str, whole: bool) -> bool:
    try:
        int(text) if whole else float(text)
    except ValueError:
        return False
    return True
