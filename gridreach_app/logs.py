"""Logging for processes that embed Rasa.

Rasa's log output carries message texts, parse results, slot values and, for a failed action, the action server's
reply: residents' health answers. Nothing of that may reach a log at any level, so an embedding process

* scrubs every record as it is made (``dialogs.redact.install``: vendor records lose quoted texts, values, CJK text,
  decimals and phone-number-like digit runs, their tracebacks keep types and frames only; every record loses
  ``token=`` values and phone numbers), which also covers handlers added later (pytest's ``caplog``, files);
* configures Rasa's structlog with a processor that masks every event value (``parse_data_text=...``), filtered by
  the stdlib level of each logger and never cached, so that a level set later takes effect;
* caps Rasa and its libraries at WARNING by default (``quiet_rasa``), or at the level asked for
  (``configure_rasa_logging``, e.g. DEBUG while investigating: still scrubbed).
"""

from __future__ import annotations

import logging

from dialogs import redact

__all__ = ["RASA_LOGGERS", "configure_rasa_logging", "install_redaction", "quiet_rasa"]

RASA_LOGGERS = ("rasa", "rasa_sdk", "sanic", "tensorflow", "absl", "jieba", "urllib3", "httpx", "httpcore",
                "aiohttp", "apscheduler")


def install_redaction() -> None:
    """Scrub every record and structured event of this process from now on (any process, Rasa or not: httpx logs
    request URLs with tokens at INFO). Idempotent; ``configure_rasa_logging`` calls it too."""
    redact.install()
    redact.configure_structlog()


def configure_rasa_logging(level: int) -> None:
    """Scrub every record; Rasa, rasa_sdk, Sanic and the HTTP clients log from ``level`` up."""
    import jieba

    install_redaction()
    jieba.setLogLevel(max(level, logging.WARNING))  # jieba sets its own logger to DEBUG when imported
    for name in RASA_LOGGERS:
        logging.getLogger(name).setLevel(level)


def quiet_rasa(level: int = logging.WARNING) -> None:
    """``configure_rasa_logging`` at ``level`` but never below WARNING: the default for every embedding process."""
    configure_rasa_logging(max(level, logging.WARNING))
