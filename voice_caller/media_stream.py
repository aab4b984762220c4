"""Twilio Media Streams on the wire: the one serializer of its JSON messages.

From Twilio: ``connected``, ``start``, ``media`` (base64 8 kHz μ-law, ~20 ms), ``dtmf``, ``mark`` (the echo of a
mark we sent, once the audio before it has played, or when ``clear`` dropped it) and ``stop``. To Twilio on a
bidirectional stream (``<Connect><Stream>``): ``media``, ``mark`` and ``clear``. ``parse`` never raises: a frame
that is not one of these becomes ``Malformed`` with a reason (and no copy of the frame).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Connected",
    "Dtmf",
    "Event",
    "Malformed",
    "Mark",
    "Media",
    "Start",
    "Stop",
    "clear_message",
    "mark_message",
    "media_message",
    "parse",
]

DTMF_DIGITS = frozenset("0123456789*#ABCD")


@dataclass(frozen=True)
class Connected:
    protocol: str
    version: str


@dataclass(frozen=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str
    custom_parameters: Mapping[str, str] = field(default_factory=dict)
    encoding: str = "audio/x-mulaw"
    sample_rate: int = 8000
    channels: int = 1
    tracks: tuple[str, ...] = ("inbound",)


@dataclass(frozen=True)
class Media:
    payload: bytes
    track: str = "inbound"
    chunk: int | None = None
    timestamp: int | None = None


@dataclass(frozen=True)
class Dtmf:
    digit: str


@dataclass(frozen=True)
class Mark:
    name: str


@dataclass(frozen=True)
class Stop:
    call_sid: str | None = None


@dataclass(frozen=True)
class Malformed:
    """A frame we could not read; ``reason`` says why (never the frame's content)."""

    reason: str


Event = Connected | Start | Media | Dtmf | Mark | Stop | Malformed


class _Bad(Exception):
    pass


def _obj(message: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = message.get(key)
    if not isinstance(value, Mapping):
        raise _Bad(f"{message.get('event')} message without a {key!r} object")
    return value


def _str(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _Bad(f"{what} without {key!r}")
    return value


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's Infinity, 1e400
        return None


def _start(message: Mapping[str, Any]) -> Start:
    start = _obj(message, "start")
    params = start.get("customParameters") or {}
    if not isinstance(params, Mapping):
        raise _Bad("start with customParameters that is not an object")
    fmt = start.get("mediaFormat") or {}
    if not isinstance(fmt, Mapping):
        raise _Bad("start with mediaFormat that is not an object")
    tracks = start.get("tracks") or ["inbound"]
    return Start(
        stream_sid=_str(start, "streamSid", "start") if "streamSid" in start else _str(message, "streamSid", "start"),
        call_sid=_str(start, "callSid", "start"),
        account_sid=str(start.get("accountSid") or ""),
        custom_parameters={str(k): str(v) for k, v in params.items()},
        encoding=str(fmt.get("encoding") or "audio/x-mulaw"),
        sample_rate=_int(fmt.get("sampleRate")) or 8000,
        channels=_int(fmt.get("channels")) or 1,
        tracks=tuple(str(t) for t in tracks) if isinstance(tracks, list) else ("inbound",),
    )


def _media(message: Mapping[str, Any]) -> Media:
    media = _obj(message, "media")
    payload = media.get("payload")
    if not isinstance(payload, str):
        raise _Bad("media without a payload")
    try:
        audio = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _Bad("media payload is not base64") from None
    return Media(audio, str(media.get("track") or "inbound"), _int(media.get("chunk")), _int(media.get("timestamp")))


def _dtmf(message: Mapping[str, Any]) -> Dtmf:
    digit = _str(_obj(message, "dtmf"), "digit", "dtmf")
    if digit not in DTMF_DIGITS:
        raise _Bad("dtmf with a digit that is not a phone key")
    return Dtmf(digit)


def parse(frame: str | bytes) -> Event:
    """One websocket frame from Twilio as an event; ``Malformed`` for anything else."""
    try:
        message = json.loads(frame)
    except (ValueError, UnicodeDecodeError):
        return Malformed("frame is not JSON")
    except RecursionError:
        return Malformed("frame nests too deeply")
    if not isinstance(message, dict):
        return Malformed("frame is not a JSON object")
    kind = message.get("event")
    try:
        if kind == "connected":
            return Connected(str(message.get("protocol") or ""), str(message.get("version") or ""))
        if kind == "start":
            return _start(message)
        if kind == "media":
            return _media(message)
        if kind == "dtmf":
            return _dtmf(message)
        if kind == "mark":
            return Mark(_str(_obj(message, "mark"), "name", "mark"))
        if kind == "stop":
            stop = message.get("stop")
            return Stop(str(stop.get("callSid")) if isinstance(stop, Mapping) and stop.get("callSid") else None)
    except _Bad as exc:
        return Malformed(str(exc))
    return Malformed("unknown event" if isinstance(kind, str) else "frame without an event")


# ---- messages we send ---------------------------------------------------------------------
def media_message(stream_sid: str, ulaw: bytes) -> str:
    """Audio to play to the caller (8 kHz μ-law, base64)."""
    payload = base64.b64encode(ulaw).decode("ascii")
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def mark_message(stream_sid: str, name: str) -> str:
    """Ask Twilio to echo ``name`` back once the audio sent before it has played."""
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    """Drop the audio Twilio has buffered (barge-in); pending marks are echoed back."""
    return json.dumps({"event": "clear", "streamSid": stream_sid})
