"""Parse one Bot API ``Update`` (a JSON object) into what the connector acts on, before anything changes.

A field of the wrong type or a missing required field raises ``MalformedUpdate``; update types the connector does
not use come back as ``None``. See https://core.telegram.org/bots/api#update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridreach.errors import ChannelError, MalformedRequest

__all__ = ["Contact", "Incoming", "MalformedUpdate", "Person", "UpdateBusy", "parse_update"]

_MEDIA = ("sticker", "photo", "voice", "audio", "video", "video_note", "document", "animation", "location",
          "venue", "poll", "dice", "game")


class MalformedUpdate(MalformedRequest):
    """The body is not a Bot API Update this connector can read."""


class UpdateBusy(ChannelError):
    """Another handler holds the update's claim under a live lease: deliver the update again later."""


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    language_code: str | None
    is_bot: bool = False


@dataclass(frozen=True)
class Contact:
    phone: str
    user_id: int | None


@dataclass(frozen=True)
class Incoming:
    """One update: ``kind`` is message, edited, callback or member."""

    update_id: int
    kind: str
    chat_id: int
    chat_type: str
    chat_title: str | None
    sender: Person | None
    message_id: int | None = None
    text: str | None = None
    contact: Contact | None = None
    media: bool = False
    migrate_to: int | None = None
    migrate_from: int | None = None
    callback_id: str | None = None
    data: str | None = None
    message: dict[str, Any] | None = None  # the bot's message under a pressed button
    member_status: str | None = None

    @property
    def private(self) -> bool:
        return self.chat_type == "private"


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str, required: bool = True) -> Any:
    if not isinstance(obj, dict):
        raise MalformedUpdate(f"{where} is not an object")
    value = obj.get(key)
    if value is None:
        if required:
            raise MalformedUpdate(f"{where}.{key} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise MalformedUpdate(f"{where}.{key} has the wrong type")
    return value


def _person(obj: Any, where: str) -> Person | None:
    if obj is None:
        return None
    return Person(_get(obj, "id", int, where), str(_get(obj, "first_name", str, where, False) or ""),
                  _get(obj, "language_code", str, where, False), bool(obj.get("is_bot")))


def _chat(obj: Any, where: str) -> tuple[int, str, str | None]:
    chat = _get(obj, "chat", dict, where)
    return (_get(chat, "id", int, f"{where}.chat"), _get(chat, "type", str, f"{where}.chat"),
            _get(chat, "title", str, f"{where}.chat", False))


def _message(update_id: int, kind: str, msg: Any) -> Incoming:
    where = kind
    chat_id, chat_type, title = _chat(msg, where)
    contact = _get(msg, "contact", dict, where, False)
    return Incoming(
        update_id=update_id, kind=kind, chat_id=chat_id, chat_type=chat_type, chat_title=title,
        sender=_person(msg.get("from"), f"{where}.from"),
        message_id=_get(msg, "message_id", int, where),
        text=_get(msg, "text", str, where, False),
        contact=None if contact is None else Contact(_get(contact, "phone_number", str, f"{where}.contact"),
                                                     _get(contact, "user_id", int, f"{where}.contact", False)),
        media=any(msg.get(k) is not None for k in _MEDIA),
        migrate_to=_get(msg, "migrate_to_chat_id", int, where, False),
        migrate_from=_get(msg, "migrate_from_chat_id", int, where, False),
    )


def parse_update(update: Any) -> Incoming | None:
    """The update as ``Incoming``; None for a kind the connector ignores (channel posts, polls, ...)."""
    update_id = _get(update, "update_id", int, "update")
    if "message" in update:
        return _message(update_id, "message", update["message"])
    if "edited_message" in update:
        return _message(update_id, "edited", update["edited_message"])
    if "callback_query" in update:
        query = _get(update, "callback_query", dict, "update")
        sender = _person(_get(query, "from", dict, "callback_query"), "callback_query.from")
        message = _get(query, "message", dict, "callback_query", False)
        chat_id, chat_type, title = _chat(message, "callback_query.message") if message else (0, "", None)
        return Incoming(
            update_id=update_id, kind="callback", chat_id=chat_id, chat_type=chat_type, chat_title=title,
            sender=sender, message_id=_get(message, "message_id", int, "callback_query.message") if message else None,
            callback_id=_get(query, "id", str, "callback_query"), data=_get(query, "data", str, "callback_query", False),
            message=message)
    if "my_chat_member" in update:
        change = _get(update, "my_chat_member", dict, "update")
        chat_id, chat_type, title = _chat(change, "my_chat_member")
        new = _get(change, "new_chat_member", dict, "my_chat_member")
        return Incoming(
            update_id=update_id, kind="member", chat_id=chat_id, chat_type=chat_type, chat_title=title,
            sender=_person(_get(change, "from", dict, "my_chat_member"), "my_chat_member.from"),
            member_status=_get(new, "status", str, "my_chat_member.new_chat_member"))
    return None
