"""Place calls for a list of residents: one contact attempt per call, paced to the account's limits.

Each call is recorded before it is placed (``contact_attempts``: channel ``voice``, outcome ``initiated``, the
questionnaire in ``detail``) so that Twilio's callbacks, which name the attempt in their URL, always find it; the
CallSid is added once Twilio accepted the call (or once a look-up found the call whose reply was lost). A resident
who has a voice attempt started within ``call_min_interval`` (``GRIDREACH_CALL_MIN_INTERVAL``) is not called
again: the check and the new attempt are one transaction in the database, so it holds across processes, re-runs
of ``gridreach call`` and restarts (an attempt that Twilio proved it never created does not count). A call Twilio
refuses (after the retries of ``TwilioTelephony``) is recorded ``failed`` with the HTTP status and
``placed: false``; a creation whose fate is unknown (``unconfirmed``) stays ``initiated``, open to its callbacks.
Calls start no faster than ``calls_per_second`` and at most ``max_concurrent_calls`` are live at once. Residents
who opted out of voice (or of everything) or have no phone are skipped without an attempt. Retrying unanswered
residents later is the campaign engine's job. Every store call runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from gridreach.errors import TelephonyError
from gridreach.store import Store
from gridreach.views import ResidentView
from voice_caller.config import VoiceSettings

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
    """What happened to one resident: ``initiated`` (a call was placed), ``unconfirmed`` (a creation whose fate
    Twilio could not tell), ``failed`` or ``skipped`` (``reason``: no_phone, opted_out, called_recently; for the
    last, ``attempt_id`` is the earlier attempt and ``not_before`` when a call is allowed again)."""

    resident_id: int
    outcome: str
    attempt_id: int | None = None
    call_sid: str | None = None
    reason: str | None = None
    not_before: datetime | None = None


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
        """Why ``resident`` must not be called (blocking: reads the store)."""
        if not resident.phone:
            return "no_phone"
        if self.store.has_opted_out(resident.id, "voice"):
            return "opted_out"
        return None

    async def _record(self, resident: ResidentView, questionnaire_id: str,
                      campaign_id: int | None) -> tuple[int | None, DialOutcome | None]:
        """A new attempt, or the outcome that says why there is none (called within the interval)."""
        detail = {"questionnaire": questionnaire_id}
        interval = float(self.settings.call_min_interval)
        if interval <= 0:
            new_id = await asyncio.to_thread(self.store.record_contact_attempt, resident.id, campaign_id,
                                             "voice", "initiated", None, detail)
            return new_id, None
        since = datetime.now(timezone.utc) - timedelta(seconds=interval)
        attempt_id, earlier = await asyncio.to_thread(self.store.reserve_contact_attempt, resident.id, campaign_id,
                                                      "voice", since=since, detail=detail)
        if earlier is None:
            return attempt_id, None
        not_before = earlier.started_at + timedelta(seconds=interval)
        log.info("resident #%d: called at %s (attempt %d), not again before %s", resident.id,
                 f"{earlier.started_at:%Y-%m-%d %H:%M} UTC", earlier.id, f"{not_before:%Y-%m-%d %H:%M} UTC")
        return None, DialOutcome(resident.id, "skipped", earlier.id, earlier.external_id, "called_recently",
                                 not_before)

    async def place(self, resident: ResidentView, questionnaire_id: str, campaign_id: int | None) -> DialOutcome:
        """Record an attempt and place one call (no pacing: ``dial`` paces)."""
        reason = await asyncio.to_thread(self.skip_reason, resident)
        if reason is not None:
            return DialOutcome(resident.id, "skipped", reason=reason)
        assert resident.phone is not None
        attempt_id, refused = await self._record(resident, questionnaire_id, campaign_id)
        if refused is not None or attempt_id is None:
            assert refused is not None
            return refused
        try:
            placed = await self.telephony.place_call(
                resident.phone, self.callbacks.twiml_url(attempt_id), self.callbacks.status_url(attempt_id)
            )
        except TelephonyError as exc:
            if exc.unconfirmed:  # it may exist: leave the attempt open to its callbacks, never place it again
                await asyncio.to_thread(self.store.advance_contact_attempt, attempt_id, "initiated", after=(),
                                        ended=False, detail={"error": str(exc), "unconfirmed": True})
                return DialOutcome(resident.id, "unconfirmed", attempt_id, reason=str(exc))
            await asyncio.to_thread(self.store.update_contact_attempt, attempt_id, "failed", True,
                                    {"error": str(exc), "http_status": exc.status, "placed": False})
            return DialOutcome(resident.id, "failed", attempt_id, reason=str(exc))
        await asyncio.to_thread(self.store.set_contact_attempt_external_id, attempt_id, placed.sid)
        if getattr(placed, "adopted", False):
            await asyncio.to_thread(self.store.advance_contact_attempt, attempt_id, "initiated", after=(),
                                    ended=False, detail={"adopted": True})
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
            reason = await asyncio.to_thread(self.skip_reason, resident)
            if reason is not None:
                return DialOutcome(resident.id, "skipped", reason=reason)
            async with limit:
                await self._slot()
                outcome = await self.place(resident, questionnaire_id, campaign_id)
                if outcome.outcome == "initiated" and outcome.attempt_id is not None:
                    await self.callbacks.wait_ended(outcome.attempt_id, self.call_timeout)
                return outcome

        outcomes = await asyncio.gather(*(one(r) for r in residents))
        log.info("dialled %d residents: %d placed, %d unconfirmed, %d failed, %d skipped", len(outcomes),
                 sum(o.outcome == "initiated" for o in outcomes), sum(o.outcome == "unconfirmed" for o in outcomes),
                 sum(o.outcome == "failed" for o in outcomes), sum(o.outcome == "skipped" for o in outcomes))
        return outcomes
