"""Logging for processes that embed Rasa.

Rasa's structlog output at DEBUG carries every message text and parse result: residents' health answers. Nothing
of that may reach a log, so an embedding process caps Rasa at WARNING (and at most at the level asked for).
"""

from __future__ import annotations

import logging

__all__ = ["quiet_rasa"]


def quiet_rasa(level: int = logging.WARNING) -> None:
    """Configure Rasa's structlog and loggers so that nothing below ``level`` (never below WARNING) is logged."""
    import jieba
    from rasa.utils.log_utils import configure_structlog

    level = max(level, logging.WARNING)
    configure_structlog(level)
    jieba.setLogLevel(level)  # jieba sets its own logger to DEBUG when imported
    for name in ("rasa", "rasa_sdk", "sanic", "tensorflow", "absl", "jieba", "urllib3", "httpx"):
        logging.getLogger(name).setLevel(level)
