"""Delivery dedupe, contact attempts, notices and receipts, the audit log."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from gridreach.db.models import (
    RECEIPT_STATUSES,
    AuditLog,
    Campaign,
    ContactAttempt,
    InboundMessage,
    Notice,
    NoticeReceipt,
    Resident,
    utcnow,
)
from gridreach.errors import NotFound, StorageError
from gridreach.store._base import StoreBase, aware, aware_now
from gridreach.views import AuditEntry, ContactAttemptView, ReceiptView

__all__ = ["OutreachMixin"]

CLAIM_LEASE = timedelta(minutes=5)
ClaimState = Literal["claimed", "done", "busy"]


class OutreachMixin(StoreBase):
    # ---- inbound delivery dedupe: claims with a lease, and the side effects already done ----------------
    def claim_message(self, channel: str, external_id: str, lease: timedelta = CLAIM_LEASE) -> bool:
        """True when the caller now holds the (channel, message id): the first time it is seen, or again when an
        earlier claim was neither finished nor released and its ``lease`` ran out (its process died). False for a
        finished message (a redelivery) and for one another holder is still working on. The holder calls
        ``finish_message`` when done, or ``release_message`` when handling failed."""
        return self.claim_inbound(channel, external_id, lease) == "claimed"

    def claim_inbound(self, channel: str, external_id: str, lease: timedelta = CLAIM_LEASE) -> ClaimState:
        """``claim_message`` telling why not: ``"done"`` (finished: ignore it) or ``"busy"`` (held under a live
        lease: ask for a later redelivery)."""
        now = utcnow()
        with self._write() as session:
            try:
                with session.begin_nested():
                    session.add(InboundMessage(channel=channel, external_id=external_id, claimed_at=now,
                                               lease_until=now + lease, done=False))
                return "claimed"
            except IntegrityError:
                pass
            taken = session.execute(
                update(InboundMessage)
                .where(*_claim_of(channel, external_id), InboundMessage.done.is_(False),
                       or_(InboundMessage.lease_until.is_(None), InboundMessage.lease_until <= now))
                .values(claimed_at=now, lease_until=now + lease)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken:
                return "claimed"
            done = session.execute(select(InboundMessage.done).where(*_claim_of(channel, external_id))).scalar()
            return "busy" if done is False else "done"

    def finish_message(self, channel: str, external_id: str) -> None:
        """The message was handled: every later redelivery is ignored."""
        with self._write() as session:
            session.execute(
                update(InboundMessage).where(*_claim_of(channel, external_id))
                .values(done=True, lease_until=None).execution_options(synchronize_session=False))

    def release_message(self, channel: str, external_id: str) -> None:
        """Handling failed: the redelivery is handled at once. The progress recorded so far is kept, so the
        retry skips the side effects already done."""
        with self._write() as session:
            session.execute(
                update(InboundMessage).where(*_claim_of(channel, external_id))
                .values(done=False, lease_until=None).execution_options(synchronize_session=False))

    def message_progress(self, channel: str, external_id: str) -> dict[str, Any]:
        """The steps of a claimed message already done (step name -> its recorded result)."""
        with self._read() as session:
            progress = session.execute(
                select(InboundMessage.progress).where(*_claim_of(channel, external_id))).scalar()
            return dict(progress or {})

    def record_message_step(self, channel: str, external_id: str, step: str, result: Any = None) -> None:
        """Record that ``step`` of a claimed message was done (``result``: JSON, what a retry gets back).
        Raises ``NotFound`` when the message was never claimed."""
        with self._write() as session:
            query = select(InboundMessage).where(*_claim_of(channel, external_id))
            if self.dialect == "postgresql":
                query = query.with_for_update()
            row = session.execute(query).scalar_one_or_none()
            if row is None:
                raise NotFound(f"message {external_id!r} on {channel} was not claimed")
            row.progress = {**(row.progress or {}), step: result}

    # ---- contact attempts ----------------------------------------------------------
    def record_contact_attempt(
        self,
        resident_id: int,
        campaign_id: int | None,
        channel: str,
        outcome: str,
        external_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        with self._write() as session:
            self._get(session, Resident, resident_id, "resident")
            if campaign_id is not None:
                self._get(session, Campaign, campaign_id, "campaign")
            attempt = ContactAttempt(
                resident_id=resident_id,
                campaign_id=campaign_id,
                channel=channel,
                outcome=outcome,
                external_id=external_id,
                detail=detail,
            )
            session.add(attempt)
            session.flush()
            return int(attempt.id)

    def update_contact_attempt(
        self, attempt_id: int, outcome: str, ended: bool = True, detail: dict[str, Any] | None = None
    ) -> None:
        """Set the outcome; ``ended`` stamps the end time; ``detail`` is merged in."""
        with self._write() as session:
            attempt = self._get(session, ContactAttempt, attempt_id, "contact attempt")
            attempt.outcome = outcome
            if ended:
                attempt.ended_at = utcnow()
            if detail:
                attempt.detail = {**(attempt.detail or {}), **detail}

    def get_contact_attempt(self, attempt_id: int) -> ContactAttemptView | None:
        with self._read() as session:
            a = session.get(ContactAttempt, attempt_id)
            if a is None:
                return None
            return ContactAttemptView(
                a.id,
                a.resident_id,
                a.campaign_id,
                a.channel,
                a.outcome,
                a.external_id,
                aware_now(a.started_at),
                aware(a.ended_at),
                a.detail,
            )

    # ---- notices -------------------------------------------------------------------
    def create_notice(self, grid_code: str, title: str, body: str, created_by: str) -> int:
        with self._write() as session:
            notice = Notice(
                grid_id=self._grid_id(session, grid_code), title=title, body=body, created_by=created_by
            )
            session.add(notice)
            session.flush()
            self._audit(session, created_by, "notice.create", "notice", notice.id, {"grid": grid_code})
            return int(notice.id)

    def record_receipt(self, notice_id: int, resident_id: int, channel: str, status: str) -> None:
        """Upsert a resident's receipt of a notice; ``acknowledged`` / ``asked_human`` are
        never downgraded back to ``delivered``."""
        if status not in RECEIPT_STATUSES:
            raise ValueError(f"receipt status must be one of {', '.join(RECEIPT_STATUSES)}")
        with self._write() as session:
            self._get(session, Notice, notice_id, "notice")
            self._get(session, Resident, resident_id, "resident")
            existing = _receipt(session, notice_id, resident_id)
            if existing is None:
                try:
                    with session.begin_nested():
                        session.add(
                            NoticeReceipt(
                                notice_id=notice_id, resident_id=resident_id, channel=channel, status=status
                            )
                        )
                    return
                except IntegrityError:
                    existing = _receipt(session, notice_id, resident_id)
            if status == "delivered" and existing.status != "delivered":
                return
            existing.status, existing.channel, existing.at = status, channel, utcnow()

    def notice_receipts(self, notice_id: int) -> list[ReceiptView]:
        with self._read() as session:
            rows = session.execute(
                select(NoticeReceipt)
                .where(NoticeReceipt.notice_id == notice_id)
                .order_by(NoticeReceipt.resident_id)
            ).scalars()
            return [
                ReceiptView(r.notice_id, r.resident_id, r.channel, r.status, aware_now(r.at)) for r in rows
            ]

    # ---- audit ---------------------------------------------------------------------
    def audit(
        self,
        actor: str,
        action: str,
        target_type: str,
        target_id: object,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit log. Never put answer values or other health data in ``detail``."""
        with self._write() as session:
            self._audit(session, actor, action, target_type, target_id, detail)

    def audit_entries(
        self, target_type: str | None = None, target_id: object = None, limit: int = 1000
    ) -> list[AuditEntry]:
        with self._read() as session:
            query = select(AuditLog).order_by(AuditLog.id)
            if target_type is not None:
                query = query.where(AuditLog.target_type == target_type)
            if target_id is not None:
                query = query.where(AuditLog.target_id == str(target_id))
            rows = session.execute(query.limit(limit)).scalars()
            return [
                AuditEntry(r.id, r.actor, r.action, r.target_type, r.target_id, aware_now(r.at), r.detail)
                for r in rows
            ]

    # ---- contact attempts driven by a vendor's callbacks (voice) -----------------------
    def set_contact_attempt_external_id(self, attempt_id: int, external_id: str, outcome: str | None = None) -> None:
        """Record the vendor's id of an attempt (a Twilio CallSid) once the vendor accepted it; optionally its
        outcome. An attempt keeps its first external id: setting another one raises ``StorageError``."""
        with self._write() as session:
            attempt = self._get(session, ContactAttempt, attempt_id, "contact attempt")
            if attempt.external_id not in (None, external_id):
                raise StorageError(f"contact attempt {attempt_id} already has another external id")
            attempt.external_id = external_id
            if outcome is not None:
                attempt.outcome = outcome

    def advance_contact_attempt(
        self,
        attempt_id: int,
        outcome: str,
        *,
        after: Collection[str],
        ended: bool,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        """Move an attempt to ``outcome`` only from one of the outcomes in ``after`` (callbacks arrive late, twice or
        out of order: a ``ringing`` after ``completed`` changes nothing). ``ended`` stamps the end time; ``detail``
        is merged in either way. Atomic (row lock on PostgreSQL). True when the outcome changed."""
        with self._write() as session:
            attempt = session.execute(
                select(ContactAttempt).where(ContactAttempt.id == attempt_id).with_for_update()
            ).scalar_one_or_none()
            if attempt is None:
                raise NotFound(f"unknown contact attempt {attempt_id}")
            if detail and any((attempt.detail or {}).get(k) != v for k, v in detail.items()):
                attempt.detail = {**(attempt.detail or {}), **detail}
            if attempt.outcome == outcome or attempt.outcome not in after:
                return False
            attempt.outcome = outcome
            if ended:
                attempt.ended_at = utcnow()
            return True

    def reserve_contact_attempt(
        self,
        resident_id: int,
        campaign_id: int | None,
        channel: str,
        *,
        since: datetime,
        detail: dict[str, Any] | None = None,
    ) -> tuple[int | None, ContactAttemptView | None]:
        """Record an ``initiated`` attempt on ``channel`` unless the resident already has one started at or after
        ``since`` that may have reached them (every attempt counts but one whose ``detail["placed"]`` is False: the
        vendor proved nothing was created). Atomic across processes: the resident's row is locked on PostgreSQL,
        SQLite writers are serialised. Returns ``(new attempt id, None)`` or ``(None, the attempt in the way)``."""
        with self._write() as session:
            resident = session.execute(
                select(Resident).where(Resident.id == resident_id).with_for_update()
            ).scalar_one_or_none()
            if resident is None:
                raise NotFound(f"unknown resident {resident_id}")
            if campaign_id is not None:
                self._get(session, Campaign, campaign_id, "campaign")
            recent = session.execute(
                select(ContactAttempt)
                .where(ContactAttempt.resident_id == resident_id, ContactAttempt.channel == channel)
                .order_by(ContactAttempt.id.desc())
                .limit(100)
            ).scalars()
            for a in recent:
                if aware_now(a.started_at) >= since and _may_have_reached(a):
                    return None, _attempt_view(a)
            attempt = ContactAttempt(
                resident_id=resident_id, campaign_id=campaign_id, channel=channel, outcome="initiated", detail=detail
            )
            session.add(attempt)
            session.flush()
            return int(attempt.id), None

    def last_contact_attempt(self, resident_id: int, channel: str) -> ContactAttemptView | None:
        """The resident's latest attempt on ``channel`` that may have reached them (see
        ``reserve_contact_attempt``), or None."""
        with self._read() as session:
            recent = session.execute(
                select(ContactAttempt)
                .where(ContactAttempt.resident_id == resident_id, ContactAttempt.channel == channel)
                .order_by(ContactAttempt.id.desc())
                .limit(100)
            ).scalars()
            return next((_attempt_view(a) for a in recent if _may_have_reached(a)), None)


def _may_have_reached(a: Any) -> bool:
    return (a.detail or {}).get("placed") is not False


def _attempt_view(a: Any) -> ContactAttemptView:
    return ContactAttemptView(
        a.id, a.resident_id, a.campaign_id, a.channel, a.outcome, a.external_id, aware_now(a.started_at),
        aware(a.ended_at), a.detail,
    )


def _claim_of(channel: str, external_id: str) -> tuple[Any, Any]:
    return InboundMessage.channel == channel, InboundMessage.external_id == external_id


def _receipt(session: Any, notice_id: int, resident_id: int) -> Any:
    return session.execute(
        select(NoticeReceipt).where(
            NoticeReceipt.notice_id == notice_id, NoticeReceipt.resident_id == resident_id
        )
    ).scalar_one_or_none()
