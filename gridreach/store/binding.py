"""Binding chat accounts to residents, safely across processes: one-time codes (hashed, expiring, one use), the
resident's own binding that evicts their other accounts, the attempt limiter, the seen callback nonces (replay
window) and the campaign a person opened before binding. All of it lives in the database, so every
process of a deployment shares it and a restart forgets nothing.

The limiter (``reserve_attempt`` / ``settle_attempt``) is the one seam for limited tries: a try is reserved before
it is checked, counted against the subject's limit and the scope's overall limit within the window, and kept only
when it failed. A success deletes only its own row (it resets nothing), a refused try leaves no row, so the table
holds at most ``overall`` rows per scope and window (plus one marker per refused subject, so that a flood of
refused tries is audited once per window, not once per try).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridreach.db.models import (
    Campaign,
    ChannelIdentity,
    LimitedAttempt,
    LinkCode,
    PendingCampaign,
    Resident,
    SeenNonce,
    utcnow,
)
from gridreach.errors import LinkCodeError, NotFound
from gridreach.store._base import StoreBase, aware_now
from gridreach.views import ResidentView

__all__ = ["AttemptLimit", "BindOutcome", "BindingMixin"]

_REFUSED = "!refused"  # scope suffix of the markers that a refusal was audited in this window


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


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
    # ---- one-time resident codes -----------------------------------------------------------------------------
    def issue_link_code(self, resident_id: int, created_by: str, ttl: timedelta = timedelta(hours=72)) -> str:
        """A fresh 8-digit code that binds one channel account to this resident, once; only its hash is kept."""
        with self._write() as session:
            self._get(session, Resident, resident_id, "resident")
            while True:
                code = f"{secrets.randbelow(10**8):08d}"
                try:
                    with session.begin_nested():
                        session.add(LinkCode(code_hash=_hash_code(code), resident_id=resident_id,
                                             created_by=created_by, expires_at=utcnow() + ttl))
                    break
                except IntegrityError:
                    continue
            self._audit(session, created_by, "link_code_issued", "resident", resident_id)
            return code

    def redeem_link_code(self, code: str, channel: str, external_id: str, phone: str | None = None) -> ResidentView:
        """Bind ``(channel, external_id)`` to the code's resident; the code cannot be used again. With ``phone``
        (E.164, what the person typed) a code of a resident with another phone is refused as ``unknown`` and
        stays unused."""
        with self._write() as session:
            row = session.execute(select(LinkCode).where(LinkCode.code_hash == _hash_code(code))
                                  ).scalar_one_or_none()
            if row is None:
                raise LinkCodeError("unknown")
            if row.used_at is not None:
                raise LinkCodeError("used")
            if aware_now(row.expires_at) < utcnow():
                raise LinkCodeError("expired")
            if phone is not None and self._get(session, Resident, row.resident_id, "resident").phone != phone:
                raise LinkCodeError("unknown")
            claimed = session.execute(update(LinkCode).where(LinkCode.id == row.id, LinkCode.used_at.is_(None))
                                      .values(used_at=utcnow(), used_by=f"{channel}:{external_id}"[:240]))
            if claimed.rowcount != 1:  # another request redeemed it a moment ago
                raise LinkCodeError("used")
            resident_id = int(row.resident_id)
            self._audit(session, f"{channel}:{external_id}", "link_code_redeemed", "resident", resident_id)
            self._bind_identity(session, resident_id, channel, external_id, "link_code")
        found = self.get_resident(resident_id)  # type: ignore[attr-defined]
        if found is None:
            raise NotFound(f"unknown resident {resident_id}")
        return found

    def redeem_code_limited(self, code: str, channel: str, external_id: str, phone: str,
                            limit: AttemptLimit) -> BindOutcome:
        """The binding path of a resident who types their phone (E.164) and a one-time code, on any channel:
        limited per account and overall in the database (scope ``bind:<channel>``), a failed try counts until
        the window passes, a success resets nothing; every refusal is audited with its real reason."""
        attempt = self.reserve_attempt(f"bind:{channel}", external_id, limit)
        if attempt is None:
            return BindOutcome("too_many")
        try:
            resident = self.redeem_link_code(code, channel, external_id, phone=phone)
        except LinkCodeError as exc:
            with self._write() as session:
                self._audit(session, f"{channel}:{external_id}"[:200], "bind_refused", "chat_account",
                            str(external_id)[:64], {"channel": channel, "reason": exc.reason})
            return BindOutcome("not_valid")
        self.settle_attempt(attempt, failed=False)
        return BindOutcome("bound", resident)

    def has_other_identity(self, resident_id: int, channel: str, external_id: str) -> bool:
        """True when the resident is bound on ``channel`` to an account other than ``external_id``."""
        with self._read() as session:
            found = session.execute(select(ChannelIdentity.id).where(
                ChannelIdentity.resident_id == resident_id, ChannelIdentity.channel == channel,
                ChannelIdentity.external_id != str(external_id)).limit(1)).scalar_one_or_none()
            return found is not None

    def bind_own_identity(self, resident_id: int, channel: str, external_id: str, via: str) -> None:
        """The resident bound this account themselves (a one-time code, their own verified phone number): it
        becomes their only account on ``channel``; any other is evicted (audited)."""
        with self._write() as session:
            self._get(session, Resident, resident_id, "resident")
            self._bind_identity(session, resident_id, channel, external_id, via)

    def _bind_identity(self, session: Session, resident_id: int, channel: str, external_id: str, via: str) -> None:
        actor = f"{channel}:{external_id}"[:200]
        row = session.execute(select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == str(external_id))).scalar_one_or_none()
        if row is None:
            try:
                with session.begin_nested():
                    session.add(ChannelIdentity(resident_id=resident_id, channel=channel, external_id=str(external_id)))
            except IntegrityError:  # the same account bound a moment ago by a concurrent request
                row = session.execute(select(ChannelIdentity).where(
                    ChannelIdentity.channel == channel, ChannelIdentity.external_id == str(external_id))).scalar_one()
        if row is not None and row.resident_id != resident_id:
            self._audit(session, actor, "identity.relink", "resident", resident_id, {"channel": channel, "via": via})
            row.resident_id = resident_id
        evicted = session.execute(delete(ChannelIdentity).where(
            ChannelIdentity.resident_id == resident_id, ChannelIdentity.channel == channel,
            ChannelIdentity.external_id != str(external_id)).execution_options(synchronize_session=False)).rowcount
        if evicted:
            self._audit(session, actor, "identity.evicted", "resident", resident_id,
                        {"channel": channel, "via": via, "accounts": int(evicted)})

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
