"""Who a conversation is with.

A Rasa sender id always names one person, never a group chat. A resident known to the database is
``resident-<id>``; a person known only by a channel identity is ``<channel>:<external id>`` until they are bound
to a resident record.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SenderId", "parse_sender_id", "resident_sender_id"]

_RESIDENT_PREFIX = "resident-"


@dataclass(frozen=True)
class SenderId:
    """A parsed sender id: a resident id, or a channel and the person's id on that channel."""

    resident_id: int | None = None
    channel: str | None = None
    external_id: str | None = None


def resident_sender_id(resident_id: int) -> str:
    """The sender id of a resident known to the database."""
    return f"{_RESIDENT_PREFIX}{int(resident_id)}"


def parse_sender_id(sender_id: str) -> SenderId:
    """Parse a sender id; raises ``ValueError`` for one of neither form."""
    if sender_id.startswith(_RESIDENT_PREFIX):
        tail = sender_id[len(_RESIDENT_PREFIX) :]
        if tail.isascii() and tail.isdigit():
            return SenderId(resident_id=int(tail))
    channel, sep, external = sender_id.partition(":")
    if sep and channel and external:
        return SenderId(channel=channel, external_id=external)
    raise ValueError(f"not a GridReach sender id: {sender_id!r}")
