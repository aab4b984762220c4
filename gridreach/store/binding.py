"""What binding a chat account needs to be safe across processes: the attempt limiter, the seen callback nonces
(replay window) and the campaign a person opened before binding. All of it lives in the database, so every
process of a deployment shares it and a restart forgets nothing.

The limiter (``reserve_attempt`` / ``settle_attempt``) is the one seam for limited tries: a try is reserved before
it is checked, counted against the subject's limit and the scope's overall limit within the window, and kept only
when it failed. A success deletes only its own row (it resets nothing), a refused try leaves no row, so the table
holds at most ``overall`` rows per scope and window (plus one marker per refused subject, so that a flood of
refused tries is audited once per window, not once per try).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select
from sqlalchemy.exc import IntegrityError

from gridreach.db.models import Campaign, LimitedAttempt, PendingCampaign, SeenNonce, utcnow
from gridreach.store._base import StoreBase, aware_now
from gridreach.views import ResidentView

__all__ = ["AttemptLimit", "BindOutcome", "BindingMixin"]

_REFUSED = "!refused"  # scope suffix of the markers that a refusal was audited in this window


@dataclass(frozen=True)
class AttemptLimit:
    """At most ``per_subject`` failed tries per subject (a chat account) and ``overall`` per scope (a channel's
    binding) within ``period``."""

    per_subject: int = 5
    overall: int = 200
    period: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.per_subject < 1 or self.overall < self.per_subject or self.period <= timedelta(0):
            raise ValueError("an attempt limit needs 1 <= per_subject <= overall and a positive period")


@dataclass(frozen=True)
class BindOutcome:
    """What a resident's code did (``ChannelsMixin.redeem_code_limited``): ``bound`` with the resident;
    ``not_valid`` for a wrong, used or expired code or a phone that is not the code's resident's (alike, so that
    nothing is learnt); ``too_many`` when the tries are used up (nothing was checked)."""

    reason: str
    resident: ResidentView | None = None

    @property
    def ok(self) -> bool:
        return self.resident is not None


class BindingMixin(StoreBase):
    # ---- the attempt limiter ---------------------------------------------------------------------------------
    def reserve_attempt(self, scope: str, subject: str, limit: AttemptLimit,
                        now: datetime | None = None) -> int | None:
        """Reserve one try of ``subject`` in ``scope``: its id, or None (nothing counted) when the subject or the
        whole scope has used its tries in the window. Settle it with ``settle_attempt``."""
        now = now or utcnow()
        since = now - limit.period
        with self._write() as session:  # committed first, so that concurrent reservations see each other
            session.execute(delete(LimitedAttempt).where(LimitedAttempt.scope.in_([scope, scope + _REFUSED]),
                                                         LimitedAttempt.at < since)
                            .execution_options(synchronize_session=False))
            row = LimitedAttempt(scope=scope, subject=str(subject)[:200], at=now)
            session.add(row)
            session.flush()
            attempt_id = int(row.id)
        with self._write() as session:
            counts = session.execute(select(
                func.count(LimitedAttempt.id),
                func.coalesce(func.sum(case((LimitedAttempt.subject == str(subject)[:200], 1), else_=0)), 0),
            ).where(LimitedAttempt.scope == scope, LimitedAttempt.at >= since)).one()
            overall, mine = int(counts[0]), int(counts[1])
            if mine <= limit.per_subject and overall <= limit.overall:
                return attempt_id
            # over a limit (racing tries may all refuse: never more than the limit pass)
            session.execute(delete(LimitedAttempt).where(LimitedAttempt.id == attempt_id))
            own = mine > limit.per_subject
            marker = str(subject)[:200] if own else "*"  # audited once per window: a flood adds no rows
            seen = session.execute(select(LimitedAttempt.id).where(
                LimitedAttempt.scope == scope + _REFUSED, LimitedAttempt.subject == marker,
                LimitedAttempt.at >= since).limit(1)).scalar_one_or_none()
            if seen is None:
                session.add(LimitedAttempt(scope=scope + _REFUSED, subject=marker, at=now))
                self._audit(session, f"{scope}:{subject}"[:200], "attempt_refused", "limit", scope,
                            {"subject_limit": own})
            return None

    def settle_attempt(self, attempt_id: int, failed: bool) -> None:
        """A failed try keeps counting until the window passes; a successful one is forgotten (only itself)."""
        if failed:
            return
        with self._write() as session:
            session.execute(delete(LimitedAttempt).where(LimitedAttempt.id == attempt_id))

    def attempts_left(self, scope: str, subject: str, limit: AttemptLimit, now: datetime | None = None) -> int:
        """How many more failed tries ``subject`` may make now (0: locked out until the window passes)."""
        since = (now or utcnow()) - limit.period
        with self._read() as session:
            overall = int(session.execute(select(func.count(LimitedAttempt.id)).where(
                LimitedAttempt.scope == scope, LimitedAttempt.at >= since)).scalar_one())
            mine = int(session.execute(select(func.count(LimitedAttempt.id)).where(
                LimitedAttempt.scope == scope, LimitedAttempt.subject == str(subject)[:200],
                LimitedAttempt.at >= since)).scalar_one())
        return max(0, min(limit.per_subject - mine, limit.overall - overall))

    # ---- callback nonces ---------------------------------------------------------------------------------------
    def remember_nonce(self, scope: str, nonce_key: str, body_hash: str, ttl: timedelta) -> str:
        """Note a signed callback's nonce for ``ttl``: ``"new"`` the first time; ``"same"`` when it came before
        with the same body (the vendor's retry: dedupe handles it); ``"replay"`` when it came with another body."""
        now = utcnow()
        with self._write() as session:
            session.execute(delete(SeenNonce).where(SeenNonce.expires_at < now)
                            .execution_options(synchronize_session=False))
            try:
                with session.begin_nested():
                    session.add(SeenNonce(scope=scope, nonce_key=nonce_key[:64], body_hash=body_hash[:64],
                                          expires_at=now + ttl))
                return "new"
            except IntegrityError:
                seen = session.execute(select(SeenNonce.body_hash).where(
                    SeenNonce.scope == scope, SeenNonce.nonce_key == nonce_key[:64])).scalar_one_or_none()
            return "same" if seen == body_hash[:64] else "replay"

    # ---- a campaign opened before binding ----------------------------------------------------------------------
    def set_pending_campaign(self, channel: str, external_id: str, campaign_id: int) -> None:
        """Remember (replacing an earlier one) the campaign this account opened before it was bound."""
        with self._write() as session:
            self._get(session, Campaign, campaign_id, "campaign")
            row = session.execute(select(PendingCampaign).where(
                PendingCampaign.channel == channel, PendingCampaign.external_id == str(external_id))
            ).scalar_one_or_none()
            if row is None:
                try:
                    with session.begin_nested():
                        session.add(PendingCampaign(channel=channel, external_id=str(external_id),
                                                    campaign_id=campaign_id))
                    return
                except IntegrityError:
                    row = session.execute(select(PendingCampaign).where(
                        PendingCampaign.channel == channel, PendingCampaign.external_id == str(external_id))
                    ).scalar_one()
            row.campaign_id, row.created_at = campaign_id, utcnow()

    def pending_campaign(self, channel: str, external_id: str,
                         max_age: timedelta = timedelta(days=2)) -> int | None:
        """The campaign this account opened before binding, if it did so within ``max_age``."""
        with self._read() as session:
            row = session.execute(select(PendingCampaign).where(
                PendingCampaign.channel == channel, PendingCampaign.external_id == str(external_id))
            ).scalar_one_or_none()
            if row is None or aware_now(row.created_at) < utcnow() - max_age:
                return None
            return int(row.campaign_id)

    def clear_pending_campaign(self, channel: str, external_id: str,
                               older_than: timedelta = timedelta(days=2)) -> None:
        """Forget this account's pending campaign, and every one older than ``older_than`` (bounded table)."""
        with self._write() as session:
            session.execute(delete(PendingCampaign).where(
                (PendingCampaign.channel == channel) & (PendingCampaign.external_id == str(external_id))
                | (PendingCampaign.created_at < utcnow() - older_than)).execution_options(synchronize_session=False))
