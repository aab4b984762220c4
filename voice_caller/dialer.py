"""Place calls for a list of residents: one contact attempt per call, paced to the account's limits.

Each call is recorded before it is placed (``contact_attempts``: channel ``voice``, outcome ``initiated``, the
questionnaire in ``detail``) so that Twilio's callbacks, which name the attempt in their URL, always find it; the
CallSid is added once Twilio accepted the call. A call Twilio refuses (after the retries of ``TwilioTelephony``)
is recorded ``failed`` with the HTTP status. Calls start no faster than ``calls_per_second`` and at most
``max_concurrent_calls`` are live at once. Residents who opted out of voice (or of everything) or have no phone
are skipped without an attempt. Retrying unanswered residents later is the campaign engine's job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gridreach.store import Store
from gridreach.views import ResidentView
from voice_caller.config import VoiceSettings
from voice_caller.errors import TelephonyError

__all__ = ["DialOutcome", "Dialer"]

log = logging.getLogger(__name__)


class _Placed(Protocol):
    @property
    def sid(self) -> str: ...


class PlacesCalls(Protocol):
    async def place_call(self, to: str, twiml_url: str, status_url: str) -> _Placed: ...


class Callbacks(Protocol):
    """Where Twilio reaches us for an attempt, and how to learn that its call is over (the ``VoiceServer``)."""

    def twiml_url(self, attempt_id: int) -> str: ...

    def status_url(self, attempt_id: int) -> str: ...

    async def wait_ended(self, attempt_id: int, timeout: float) -> Any: ...


@dataclass(frozen=True)
class DialOutcome:
    """What happened to one resident: ``initiated`` (a call was placed), ``failed`` or ``skipped``."""

    resident_id: int
    outcome: str
    attempt_id: int | None = None
    call_sid: str | None = None
    reason: str | None = None


class Dialer:
    """Places calls through ``telephony``; the ``callbacks`` server runs them."""

    def __init__(
        self,
        settings: VoiceSettings,
        store: Store,
        telephony: PlacesCalls,
        callbacks: Callbacks,
        *,
        call_timeout: float = 900.0,
    ) -> None:
        self.settings, self.store, self.telephony, self.callbacks = settings, store, telephony, callbacks
        self.call_timeout = call_timeout
        self._next_start = 0.0
        self._pace = asyncio.Lock()

    def skip_reason(self, resident: ResidentView) -> str | None:
        if not resident.phone:
            return "no_phone"
        if self.store.has_opted_out(resident.id, "voice"):
            return "opted_out"
        return None

    async def place(self, resident: ResidentView, questionnaire_id: str, campaign_id: int | None) -> DialOutcome:
        """Record an attempt and place one call (no pacing: ``dial`` paces)."""
        reason = self.skip_reason(resident)
        if reason is not None:
            return DialOutcome(resident.id, "skipped", reason=reason)
        assert resident.phone is not None
        attempt_id = self.store.record_contact_attempt(
            resident.id, campaign_id, "voice", "initiated", detail={"questionnaire": questionnaire_id}
        )
        try:
            placed = await self.telephony.place_call(
                resident.phone, self.callbacks.twiml_url(attempt_id), self.callbacks.status_url(attempt_id)
            )
        except TelephonyError as exc:
            self.store.update_contact_attempt(
                attempt_id, "failed", ended=True, detail={"error": str(exc), "http_status": exc.status}
            )
            return DialOutcome(resident.id, "failed", attempt_id, reason=str(exc))
        self.store.set_contact_attempt_external_id(attempt_id, placed.sid)
        return DialOutcome(resident.id, "initiated", attempt_id, placed.sid)

    async def _slot(self) -> None:
        """Wait for the next start time allowed by ``calls_per_second``."""
        async with self._pace:
            loop = asyncio.get_running_loop()
            now = loop.time()
            wait = self._next_start - now
            self._next_start = max(now, self._next_start) + 1.0 / self.settings.calls_per_second
            if wait > 0:
                await asyncio.sleep(wait)

    async def dial(
        self, residents: Iterable[ResidentView], questionnaire_id: str, campaign_id: int | None = None
    ) -> Sequence[DialOutcome]:
        """Call every resident (skipping who must not be called); returns once every call has ended."""
        limit = asyncio.Semaphore(self.settings.max_concurrent_calls)

        async def one(resident: ResidentView) -> DialOutcome:
            reason = self.skip_reason(resident)
            if reason is not None:
                return DialOutcome(resident.id, "skipped", reason=reason)
            async with limit:
                await self._slot()
                outcome = await self.place(resident, questionnaire_id, campaign_id)
                if outcome.outcome == "initiated" and outcome.attempt_id is not None:
                    await self.callbacks.wait_ended(outcome.attempt_id, self.call_timeout)
                return outcome

        outcomes = await asyncio.gather(*(one(r) for r in residents))
        log.info("dialled %d residents: %d placed, %d failed, %d skipped", len(outcomes),
                 sum(o.outcome == "initiated" for o in outcomes), sum(o.outcome == "failed" for o in outcomes),
                 sum(o.outcome == "skipped" for o in outcomes))
        return outcomes
