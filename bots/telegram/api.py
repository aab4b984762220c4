"""The one module that imports python-telegram-bot: a small Bot API client over PTB's ``Bot``.

Keyboards go in and updates come out as the Bot API's own JSON objects (dicts), so the rest of the connector never
sees PTB types. PTB's exceptions are translated into the channel errors of ``gridreach.errors``. Base URLs come
from the settings (a loopback fake in tests). No network call happens before ``start()``.
"""

from __future__ import annotations

import datetime as dtm
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram import error as tg_error
from telegram.request import HTTPXRequest

from bots.telegram.config import TelegramSettings
from gridreach.errors import ChannelUnavailable, ChatMoved, RateLimited, RecipientGone, Refused

__all__ = ["TelegramApi"]

UPDATE_TYPES = ["message", "edited_message", "callback_query", "my_chat_member"]


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except tg_error.RetryAfter as exc:
        wait = exc.retry_after
        raise RateLimited(wait.total_seconds() if isinstance(wait, dtm.timedelta) else float(wait)) from None
    except tg_error.ChatMigrated as exc:
        raise ChatMoved(exc.new_chat_id) from None
    except tg_error.Forbidden as exc:
        raise RecipientGone(f"{exc.message} (403)") from None
    except tg_error.BadRequest as exc:  # a NetworkError subclass in PTB, but our request is what is wrong
        raise Refused(detail=exc.message) from None
    except (tg_error.TimedOut, tg_error.NetworkError) as exc:  # TimedOut is a NetworkError; 5xx land here too
        raise ChannelUnavailable(f"Telegram unavailable: {exc.message}") from None
    except tg_error.TelegramError as exc:  # BadRequest, InvalidToken, Conflict, ...
        raise Refused(detail=exc.message) from None


def _markup(markup: dict[str, Any] | None) -> Any:
    if markup is None:
        return None
    if "inline_keyboard" in markup:
        return InlineKeyboardMarkup.de_json(markup, None)
    if "keyboard" in markup:
        return ReplyKeyboardMarkup.de_json(markup, None)
    if markup.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    raise ValueError(f"not a reply markup: {sorted(markup)}")


class TelegramApi:
    """The Bot API calls the connector makes. Message ids and chat ids are Telegram's integers."""

    def __init__(self, settings: TelegramSettings, timeout: float = 20.0) -> None:
        self.settings = settings
        request = HTTPXRequest(connection_pool_size=64, read_timeout=timeout, write_timeout=timeout,
                               connect_timeout=timeout, pool_timeout=timeout)
        poll_request = HTTPXRequest(connection_pool_size=2, read_timeout=settings.poll_timeout + 10.0,
                                    connect_timeout=timeout)
        self._bot = Bot(settings.token, base_url=settings.base_url, base_file_url=settings.base_file_url,
                        request=request, get_updates_request=poll_request)
        self._started = False

    async def start(self) -> dict[str, Any]:
        """Connect (getMe); returns the bot's user object."""
        with _translated():
            await self._bot.initialize()
        self._started = True
        return self._bot.bot.to_dict()

    async def close(self) -> None:
        if self._started:
            self._started = False
            with _translated():
                await self._bot.shutdown()

    async def send_message(self, chat_id: int | str, text: str, markup: dict[str, Any] | None = None) -> int:
        """Send a text; ``markup`` is a Bot API reply markup object. Returns the new message's id."""
        with _translated():
            message = await self._bot.send_message(chat_id, text, reply_markup=_markup(markup))
        return int(message.message_id)

    async def edit_text(self, chat_id: int | str, message_id: int, text: str,
                        markup: dict[str, Any] | None = None) -> None:
        try:
            with _translated():
                await self._bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                                  reply_markup=_markup(markup))
        except Refused as exc:
            if "not modified" not in str(exc):
                raise

    async def edit_markup(self, chat_id: int | str, message_id: int, markup: dict[str, Any] | None = None) -> None:
        """Replace (or with None remove) the inline keyboard under one of the bot's messages."""
        try:
            with _translated():
                await self._bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                          reply_markup=_markup(markup))
        except Refused as exc:
            if "not modified" not in str(exc):
                raise

    async def answer_callback(self, query_id: str, text: str | None = None, url: str | None = None) -> None:
        """Stop the button's spinner, with a short note; ``url`` may open ``t.me/<bot>?start=...``."""
        with _translated():
            await self._bot.answer_callback_query(query_id, text=text, url=url)

    async def get_updates(self, offset: int | None, timeout: int) -> list[dict[str, Any]]:
        """Long-poll for updates from ``offset`` on (which confirms every earlier one)."""
        with _translated():
            updates: tuple[Update, ...] = await self._bot.get_updates(
                offset=offset, timeout=timeout, allowed_updates=UPDATE_TYPES)
        return [u.to_dict() for u in updates]

    async def set_webhook(self, url: str, secret: str | None) -> None:
        with _translated():
            await self._bot.set_webhook(url, secret_token=secret, allowed_updates=UPDATE_TYPES)

    async def delete_webhook(self) -> None:
        with _translated():
            await self._bot.delete_webhook()

    def __repr__(self) -> str:
        return f"TelegramApi(base_url={self.settings.base_url!r}, bot={self.settings.bot_username!r})"
