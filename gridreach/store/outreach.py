"""Delivery dedupe, contact attempts, notices and receipts, the audit log."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, select
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


class OutreachMixin(StoreBase):
    # ---- inbound delivery dedupe ---------------------------------------------------
    def claim_message(self, channel: str, external_id: str) -> bool:
        """True the first time a (channel, message id) is seen; False for a redelivery."""
        with self._write() as session:
            try:
                with session.begin_nested():
                    session.add(InboundMessage(channel=channel, external_id=external_id))
            except IntegrityError:
                return False
            return True

    def release_message(self, channel: str, external_id: str) -> None:
        """Forget a claimed message whose handling failed, so that its redelivery is handled."""
        with self._write() as session:
            session.execute(
                delete(InboundMessage).where(
                    InboundMessage.channel == channel, InboundMessage.external_id == external_id
                )
            )

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


def _receipt(session: Any, notice_id: int, resident_id: int) -> Any:
    return session.execute(
        select(NoticeReceipt).where(
            NoticeReceipt.notice_id == notice_id, NoticeReceipt.resident_id == resident_id
        )
    ).scalar_one_or_none()
