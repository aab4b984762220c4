"""Keep residents' words, answers and phone numbers out of every log line, whatever library writes it.

Rasa, rasa_sdk, Sanic, aiohttp and httpx log message texts, slot values, action-server replies and request URLs
(with ``?token=``) at DEBUG, INFO and, for a failed action, ERROR. GridReach's own code logs types and ids only;
vendor code cannot be taught that, so this module rewrites their records as they are made:

* ``install()`` sets a ``logging`` record factory (and a filter on ``sanic.access`` for its ``extra`` fields): every record from a vendor logger (``VENDOR_PREFIXES``) is
  formatted at once and scrubbed (quoted strings, values after ``text:`` / ``value=`` and the like, CJK text,
  decimals and long digit runs, JSON payloads), its traceback too; every record of any logger loses
  ``token=`` query values and phone-number-like digit runs. Handlers added later (pytest's ``caplog``, a file)
  therefore never see the original text.
* ``redact_event_dict`` is a structlog processor for Rasa's structured events (``parse_data_text=...``): each
  value that is not a plain identifier, a bool or a small int is replaced.

It lives in ``dialogs`` because both the action server (``dialogs.actions.serve``) and the app
(``gridreach_app.logs``) install it, and ``dialogs`` is the lowest package that knows Rasa.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Callable, MutableMapping
from typing import Any

__all__ = ["VENDOR_PREFIXES", "configure_structlog", "install", "redact_event_dict", "scrub", "scrub_any"]

VENDOR_PREFIXES = (
    "rasa", "rasa_sdk", "sanic", "aiohttp", "httpx", "httpcore", "urllib3", "apscheduler", "asyncio",
    "sqlalchemy", "root", "py.warnings", "structlog", "jieba", "tensorflow", "absl", "matplotlib", "websockets",
)
MASK = "…"
_TOKEN = re.compile(r"(?i)((?:token|secret|signature|password|access_token)=)[^&\s'\"]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_PHONE = re.compile(r"\+?\d[\d\s-]{5,}\d")
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[_./-][A-Za-z0-9]+)+$")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
# `text: <anything> , intent:` (Rasa event reprs) and `value=...` (structlog key=value renderings)
_FIELD = re.compile(
    r"(?i)\b(text|message|value|values|user_text|response|response_text|slots?|slot_values|answer|raw|"
    r"metadata|parse_data_text|parse_data_entities|entities|entity|body|request_body|tracker|events?|"
    r"request|phone|utterance|json_message|q_state|q_answer|q_say|submission_id|sender_id|sender)"
    r"(\s*[:=]\s*)(.*?)(?=,\s*[A-Za-z_]+\s*[:=]|\)\s*$|\n|$)"
)
_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]+")
_NUMBER = re.compile(r"(?<![\w.])\d+[.,]\d+(?![\w.])|\d{5,}")
_SAFE_KEYS = frozenset({"event", "level", "logger", "timestamp", "event_key", "log_level", "exc_info"})


def _keep_quoted(match: re.Match[str]) -> str:
    inner = match.group(0)[1:-1]
    return match.group(0) if _IDENT.match(inner) else f"'{MASK}'"


def scrub(text: str) -> str:
    """The line with everything that could be a resident's words, an answer or a phone number masked."""
    if not text:
        return text
    stripped = text.strip()
    if stripped[:1] in "{[":
        try:
            return json.dumps(scrub_any(json.loads(stripped)), ensure_ascii=False)
        except ValueError:
            pass
    text = _TOKEN.sub(rf"\1{MASK}", text)
    text = _BEARER.sub(rf"\1{MASK}", text)
    text = _QUOTED.sub(_keep_quoted, text)
    text = _FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _CJK.sub(MASK, text)
    text = _PHONE.sub(MASK, text)
    return _NUMBER.sub(MASK, text)


def scrub_any(value: Any, key: str = "") -> Any:
    """A JSON-like value with every leaf that is not an identifier, a bool, None or a small int masked."""
    if key in _SAFE_KEYS and isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {str(k): scrub_any(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_any(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and -1000 < value < 1000 and key not in ("value", "answer", "q_answer"):
        return value
    if isinstance(value, str) and _IDENT.match(value) and key not in ("text", "value", "answer", "q_answer"):
        return value
    return MASK


def _light(text: str) -> str:
    text = _TOKEN.sub(rf"\1{MASK}", text)
    text = _BEARER.sub(rf"\1{MASK}", text)
    return _PHONE.sub(MASK, text)


def _is_vendor(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in VENDOR_PREFIXES)


_ORIGINAL: Callable[..., logging.LogRecord] | None = None


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _ORIGINAL is not None
    record = _ORIGINAL(*args, **kwargs)
    clean = scrub if _is_vendor(record.name) else _light
    try:
        message = record.getMessage()
    except Exception:  # a vendor's bad format string: keep the template only
        message = str(record.msg)
    record.msg, record.args = clean(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        # the exception's text (an action server's reply, a request) is data too: keep its type and frames only
        exc_type, exc, tb = record.exc_info
        frames = "".join(traceback.format_tb(tb)) if tb is not None else ""
        record.exc_text = f"Traceback (most recent call last):\n{frames}{exc_type.__name__}: {clean(str(exc))}"
        cause = exc.__cause__ if exc is not None else None
        if cause is not None:
            record.exc_text += f"\n(caused by {type(cause).__name__}: {clean(str(cause))})"
        record.exc_info = None
    return record


class _ExtraFilter(logging.Filter):
    """``extra`` fields are set after the record factory ran: sanic.access puts the request line (with
    ``?token=``) there."""

    def filter(self, record: logging.LogRecord) -> bool:
        for attr in ("request", "host"):
            if isinstance(getattr(record, attr, None), str):
                setattr(record, attr, scrub(getattr(record, attr)))
        return True


def install() -> None:
    """Scrub every log record made from now on in this process (idempotent)."""
    global _ORIGINAL
    if _ORIGINAL is None:
        _ORIGINAL = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_factory)
        logging.getLogger("sanic.access").addFilter(_ExtraFilter())


def redact_event_dict(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask every value but the event name and the level."""
    for key in list(event_dict):
        if key in ("event", "event_key"):
            if isinstance(event_dict[key], str):
                event_dict[key] = scrub(event_dict[key])
        elif key not in _SAFE_KEYS:
            event_dict[key] = scrub_any(event_dict[key], key)
    return event_dict


def configure_structlog() -> None:
    """Rasa's structlog through ``redact_event_dict``, filtered by each stdlib logger's level, never cached (so a
    level set later takes effect), rendered as JSON into the stdlib logger of the module that logs."""
    import structlog

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            redact_event_dict,
            structlog.processors.add_log_level,
            structlog.processors.UnicodeDecoder(),
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        context_class=dict,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
