"""Binding a WeChat openid to a resident: the phone number plus a one-time code from their grid worker.

``13800138000 12345678``: the 8-digit one-time code a grid worker issued for that resident (Telegram ``/code
<phone>`` or ``gridreach code --phone``), redeemed once (``Store.redeem_link_code``); the phone must be the code's
resident's. The resident's own binding makes this account their only WeChat account (any other is evicted, audited).

The grid worker's shared 6-character code no longer binds anyone (it let whoever had it bind as a neighbour):
a message with one is answered with how to get a one-time code, and nothing is looked up.

Tries are limited in the database (``Store.redeem_code_limited``, scope ``bind:wechat``: the same path as
Telegram's), per openid and overall,
shared by every process; a success does not reset a counter. Wrong, used and expired codes, and a phone that does
not match, are answered alike; no name is shown before the binding is done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gridreach.phones import mask_phone, normalize_phone
from gridreach.store import Store
from gridreach.store.binding import AttemptLimit
from gridreach.views import ResidentView

__all__ = ["SCOPE", "BindRequest", "BindResult", "Binder", "parse_binding"]

CHANNEL = "wechat"
SCOPE = "bind:wechat"
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?(1[3-9]\d(?:[\s-]?\d){8})(?!\d)")
_LINK_CODE = re.compile(r"(?<![0-9A-Za-z])(\d{8})(?![0-9A-Za-z])")
_WORKER_CODE = re.compile(r"(?<![0-9A-Za-z])([A-Za-z0-9]{6})(?![0-9A-Za-z])")


@dataclass(frozen=True)
class BindRequest:
    phone: str  # as typed, digits only
    code: str
    kind: str  # "link" (8-digit one-time code) | "worker" (the retired 6-character grid worker's code)


@dataclass(frozen=True)
class BindResult:
    """``reason`` names the phrase ``wechat.<reason>`` (``campaigns/phrases.yml``): ``bound`` on success;
    ``not_valid`` for every wrong, used or expired code and every phone that does not match; ``too_many``,
    ``bad_phone``, ``worker_code``."""

    reason: str
    resident: ResidentView | None = None

    @property
    def ok(self) -> bool:
        return self.resident is not None

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.resident.phone if self.resident else None)


def parse_binding(text: str) -> BindRequest | None:
    """A phone number and a code in one message, in either order; None when the text is not that."""
    phone = _MOBILE.search(text)
    if phone is None:
        return None
    rest = (text[: phone.start()] + " " + text[phone.end():]).strip()
    digits = re.sub(r"\D", "", phone.group(1))
    if (found := _LINK_CODE.search(rest)) is not None:
        return BindRequest(digits, found.group(1), "link")
    if (found := _WORKER_CODE.search(rest)) is not None:
        return BindRequest(digits, found.group(1).upper(), "worker")
    return None


class Binder:
    """Binds openids to residents with one-time codes, within the database-backed attempt limits.

    Blocking (database calls): call it off the event loop."""

    def __init__(self, store: Store, limit: AttemptLimit | None = None) -> None:
        self.store = store
        self.limit = limit or AttemptLimit()

    def bind(self, openid: str, request: BindRequest) -> BindResult:
        if request.kind != "link":
            return BindResult("worker_code")
        try:
            phone = normalize_phone(request.phone)
        except ValueError:
            return BindResult("bad_phone")
        # with the phone, a code of another resident is refused and stays unused
        outcome = self.store.redeem_code_limited(request.code, CHANNEL, openid, phone, self.limit)
        return BindResult(outcome.reason, outcome.resident)
