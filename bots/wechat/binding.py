"""Binding a WeChat openid to a resident: phone number plus a one-time code, or plus the grid worker's code.

* ``13800138000 12345678``: the 8-digit one-time code a grid worker issued for that resident
  (``Store.redeem_link_code``, one use) - the phone must be the resident's;
* ``13800138000 K7M2QX``: the grid worker's 6-character code (``Store.worker_by_code``) - the phone must belong to
  a resident of that worker's grid, and that resident must not be bound to another WeChat account yet (the
  worker's code is shared widely: it may open an account, never take one over; moving to a new account needs a
  one-time code).

Failed tries are counted per openid (in this process) so that codes cannot be guessed quickly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from gridreach.errors import LinkCodeError
from gridreach.phones import mask_phone, normalize_phone
from gridreach.store import Store
from gridreach.views import ResidentView

__all__ = ["BindRequest", "BindResult", "Binder", "parse_binding"]

CHANNEL = "wechat"
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?(1[3-9]\d(?:[\s-]?\d){8})(?!\d)")
_LINK_CODE = re.compile(r"(?<![0-9A-Za-z])(\d{8})(?![0-9A-Za-z])")
_WORKER_CODE = re.compile(r"(?<![0-9A-Za-z])([A-Za-z0-9]{6})(?![0-9A-Za-z])")


@dataclass(frozen=True)
class BindRequest:
    phone: str  # as typed, digits only
    code: str
    kind: str  # "link" (8-digit one-time code) | "worker" (grid worker's code)


@dataclass(frozen=True)
class BindResult:
    """``reason`` is a key of ``bots.wechat.texts`` (``bound`` on success)."""

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
    """Binds openids to residents; at most ``max_failures`` failed tries per openid per ``period`` seconds."""

    def __init__(self, store: Store, max_failures: int = 5, period: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.max_failures = max_failures
        self.period = period
        self._clock = clock
        self._failures: dict[str, list[float]] = {}

    def bind(self, openid: str, request: BindRequest) -> BindResult:
        if self._blocked(openid):
            return BindResult("too_many")
        result = self._bind(openid, request)
        if result.ok:
            self._failures.pop(openid, None)
        else:
            self._failures.setdefault(openid, []).append(self._clock())
            self.store.audit(f"{CHANNEL}:{openid}", "wechat.bind_refused", "wechat_user", openid,
                             {"reason": result.reason, "kind": request.kind})
        return result

    def _bind(self, openid: str, request: BindRequest) -> BindResult:
        try:
            phone = normalize_phone(request.phone)
        except ValueError:
            return BindResult("bad_phone")
        resident = self.store.find_resident_by_phone(phone)
        if request.kind == "worker":
            worker = self.store.worker_by_code(request.code)
            if worker is None:
                return BindResult("unknown")
            if resident is None or resident.grid_code != worker.grid_code:
                return BindResult("mismatch")
            if self.store.has_other_identity(resident.id, CHANNEL, openid):
                return BindResult("already_bound")
            self.store.link_identity(resident.id, CHANNEL, openid)
            self.store.audit(f"{CHANNEL}:{openid}", "wechat.bound_by_worker_code", "resident", resident.id,
                             {"grid": worker.grid_code})
            return BindResult("bound", resident)
        if resident is None:
            return BindResult("mismatch")
        try:  # with the phone, a code of another resident is refused and stays unused
            bound = self.store.redeem_link_code(request.code, CHANNEL, openid, phone=phone)
        except LinkCodeError as exc:
            return BindResult(exc.reason)  # "unknown" also when it is another resident's code: reveal nothing
        return BindResult("bound", bound)

    def _blocked(self, openid: str) -> bool:
        now = self._clock()
        recent = [t for t in self._failures.get(openid, []) if now - t < self.period]
        if recent:
            self._failures[openid] = recent
        else:
            self._failures.pop(openid, None)
        return len(recent) >= self.max_failures
