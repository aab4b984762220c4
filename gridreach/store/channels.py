"""What chat channels need to remember: groups bound to grids, who is a grid worker on a channel, campaign
deep-link tokens, the outbox of paced messages, WeChat's customer-service windows. Binding residents' accounts
(one-time codes, the attempt limiter, replay nonces) is ``gridreach.store.binding``, a base of this mixin."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridreach.db.models import (
    Campaign,
    CampaignLink,
    ChatGroup,
    Grid,
    GridWorker,
    Notice,
    OutboundMessage,
    ServiceWindow,
    WorkerCode,
    WorkerIdentity,
    utcnow,
)
from gridreach.errors import GroupConflict
from gridreach.phones import normalize_phone
from gridreach.store._base import aware_now
from gridreach.store.binding import BindingMixin
from gridreach.views import (
    CampaignView,
    ChatGroupView,
    GridWorkerView,
    NoticeView,
    OutboundView,
)

__all__ = ["ChannelsMixin"]

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by residents
_ERROR_MAX = 500


def _group_view(row: ChatGroup, grid_code: str) -> ChatGroupView:
    return ChatGroupView(row.id, row.channel, row.external_id, grid_code, row.title, bool(row.active), row.bound_by)


def _outbound_view(row: OutboundMessage) -> OutboundView:
    return OutboundView(row.id, row.channel, row.target, row.kind, dict(row.payload), row.dedupe_key, row.status,
                        int(row.attempts), row.external_id, row.error, aware_now(row.not_before))


def _notice_view(row: Notice, grid_code: str) -> NoticeView:
    return NoticeView(row.id, grid_code, row.title, row.body, row.created_by, aware_now(row.created_at))


def _worker_view(session: Session, row: GridWorker) -> GridWorkerView:
    grid_code = session.execute(select(Grid.code).where(Grid.id == row.grid_id)).scalar_one()
    return GridWorkerView(row.id, grid_code, row.name, row.phone, row.language)


class ChannelsMixin(BindingMixin):  # the limiter, nonces and pending campaigns: gridreach.store.binding
    # ---- groups bound to grids -----------------------------------------------------------------------------
    def bind_group(self, channel: str, external_id: str, grid_code: str, title: str | None,
                   bound_by: str, *, takeover: bool = True) -> ChatGroupView:
        """Bind a group to a grid (or re-bind it to another one); an inactive group becomes active again.

        ``takeover=False`` (a grid worker, not an administrator): a group actively bound to another grid is left as
        it is and ``GroupConflict`` raised, checked under the row's lock, so two workers racing cannot both win."""
        with self._write() as session:
            grid_id = self._grid_id(session, grid_code)
            where = (ChatGroup.channel == channel, ChatGroup.external_id == str(external_id))
            row = session.execute(select(ChatGroup).where(*where).with_for_update()).scalar_one_or_none()
            if row is None:
                row = ChatGroup(channel=channel, external_id=str(external_id), grid_id=grid_id, title=title,
                                bound_by=bound_by, active=True)
                try:
                    with session.begin_nested():
                        session.add(row)
                except IntegrityError:  # bound by someone else a moment ago: their binding is the one to check
                    row = session.execute(select(ChatGroup).where(*where).with_for_update()).scalar_one()
            if row.grid_id != grid_id and row.active and not takeover:
                taken = self._group_of(session, row)
                raise GroupConflict(taken.grid_code)
            row.grid_id, row.title, row.bound_by, row.active, row.bound_at = (
                grid_id, title or row.title, bound_by, True, utcnow())
            session.flush()
            self._audit(session, bound_by, "group_bound", "chat_group", row.id,
                        {"channel": channel, "grid": grid_code})
            return _group_view(row, grid_code)

    def migrate_group(self, channel: str, old_external_id: str, new_external_id: str) -> ChatGroupView | None:
        """A group got a new id (Telegram: group → supergroup); its binding follows. None when it was not bound."""
        with self._write() as session:
            rows = {r.external_id: r for r in session.execute(select(ChatGroup).where(
                ChatGroup.channel == channel,
                ChatGroup.external_id.in_([str(old_external_id), str(new_external_id)]))).scalars()}
            old, new = rows.get(str(old_external_id)), rows.get(str(new_external_id))
            if old is None:
                return None if new is None else self._group_of(session, new)
            if new is not None:  # both seen (the new id was bound meanwhile): keep the new one, retire the old
                old.active = False
                return self._group_of(session, new)
            old.external_id = str(new_external_id)
            session.flush()
            self._audit(session, "system", "group_migrated", "chat_group", old.id, {"channel": channel})
            return self._group_of(session, old)

    def deactivate_group(self, channel: str, external_id: str, reason: str) -> None:
        """Stop sending to a group (the bot was removed, the robot key was revoked...)."""
        with self._write() as session:
            row = session.execute(select(ChatGroup).where(
                ChatGroup.channel == channel, ChatGroup.external_id == str(external_id))).scalar_one_or_none()
            if row is not None and row.active:
                row.active = False
                self._audit(session, "system", "group_deactivated", "chat_group", row.id,
                            {"channel": channel, "reason": reason})

    def get_group(self, channel: str, external_id: str) -> ChatGroupView | None:
        with self._read() as session:
            row = session.execute(select(ChatGroup).where(
                ChatGroup.channel == channel, ChatGroup.external_id == str(external_id))).scalar_one_or_none()
            return None if row is None else self._group_of(session, row)

    def groups_for_grid(self, grid_code: str, channel: str | None = None,
                        active_only: bool = True) -> list[ChatGroupView]:
        with self._read() as session:
            query = (select(ChatGroup).join(Grid, Grid.id == ChatGroup.grid_id).where(Grid.code == grid_code)
                     .order_by(ChatGroup.id))
            if channel is not None:
                query = query.where(ChatGroup.channel == channel)
            if active_only:
                query = query.where(ChatGroup.active.is_(True))
            return [_group_view(r, grid_code) for r in session.execute(query).scalars()]

    @staticmethod
    def _group_of(session: Session, row: ChatGroup) -> ChatGroupView:
        grid_code = session.execute(select(Grid.code).where(Grid.id == row.grid_id)).scalar_one()
        return _group_view(row, grid_code)

    # ---- grid workers on channels --------------------------------------------------------------------------
    def find_grid_worker_by_phone(self, phone: str) -> GridWorkerView | None:
        try:
            e164 = normalize_phone(phone)
        except ValueError:
            return None
        with self._read() as session:
            row = session.execute(select(GridWorker).where(GridWorker.phone == e164)
                                  .order_by(GridWorker.id).limit(1)).scalar_one_or_none()
            return None if row is None else _worker_view(session, row)

    def link_worker_identity(self, worker_id: int, channel: str, external_id: str) -> None:
        """Tie a channel account to a grid worker (idempotent; an account moves to the latest worker)."""
        with self._write() as session:
            self._get(session, GridWorker, worker_id, "grid worker")
            row = session.execute(select(WorkerIdentity).where(
                WorkerIdentity.channel == channel, WorkerIdentity.external_id == str(external_id))
            ).scalar_one_or_none()
            if row is None:
                session.add(WorkerIdentity(grid_worker_id=worker_id, channel=channel, external_id=str(external_id)))
            else:
                row.grid_worker_id = worker_id
            self._audit(session, f"worker:{worker_id}", "worker_identity_linked", "grid_worker", worker_id,
                        {"channel": channel})

    def worker_by_identity(self, channel: str, external_id: str) -> GridWorkerView | None:
        with self._read() as session:
            row = session.execute(select(GridWorker).join(
                WorkerIdentity, WorkerIdentity.grid_worker_id == GridWorker.id).where(
                WorkerIdentity.channel == channel, WorkerIdentity.external_id == str(external_id))
            ).scalar_one_or_none()
            return None if row is None else _worker_view(session, row)

    def worker_code(self, worker_id: int) -> str:
        """The grid worker's short code (made on first use, then stable). It binds nobody: a shared code with a
        neighbour's phone would bind as that neighbour; residents bind with a one-time code (``issue_link_code``)."""
        with self._write() as session:
            self._get(session, GridWorker, worker_id, "grid worker")
            existing = session.execute(select(WorkerCode.code).where(WorkerCode.grid_worker_id == worker_id)
                                       ).scalar_one_or_none()
            if existing is not None:
                return str(existing)
            while True:
                code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
                try:
                    with session.begin_nested():
                        session.add(WorkerCode(grid_worker_id=worker_id, code=code))
                    return code
                except IntegrityError:
                    continue

    def worker_by_code(self, code: str) -> GridWorkerView | None:
        with self._read() as session:
            row = session.execute(select(GridWorker).join(WorkerCode, WorkerCode.grid_worker_id == GridWorker.id)
                                  .where(WorkerCode.code == code.strip().upper())).scalar_one_or_none()
            return None if row is None else _worker_view(session, row)

    # ---- campaign deep links ---------------------------------------------------------------------------------
    def campaign_token(self, campaign_id: int) -> str:
        """The campaign's deep-link token (URL-safe, 16 chars; made on first use, then stable)."""
        with self._write() as session:
            self._get(session, Campaign, campaign_id, "campaign")
            existing = session.execute(select(CampaignLink.token).where(CampaignLink.campaign_id == campaign_id)
                                       ).scalar_one_or_none()
            if existing is not None:
                return str(existing)
            token = secrets.token_urlsafe(12)  # 16 chars of [A-Za-z0-9_-], as Telegram's start payload allows
            session.add(CampaignLink(campaign_id=campaign_id, token=token))
            return token

    def campaign_by_token(self, token: str) -> CampaignView | None:
        with self._read() as session:
            campaign_id = session.execute(select(CampaignLink.campaign_id).where(CampaignLink.token == token)
                                          ).scalar_one_or_none()
        return None if campaign_id is None else self.get_campaign(int(campaign_id))  # type: ignore[attr-defined]

    # ---- the outbox ------------------------------------------------------------------------------------------
    def enqueue_outbound(self, channel: str, target: str, payload: dict[str, Any], dedupe_key: str,
                         kind: str = "message", not_before: datetime | None = None) -> int | None:
        """Queue a message; None (and nothing queued) when ``dedupe_key`` was queued before."""
        with self._write() as session:
            row = OutboundMessage(channel=channel, target=str(target), kind=kind, payload=payload,
                                  dedupe_key=dedupe_key, status="pending", attempts=0,
                                  not_before=not_before or utcnow())
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                return None
            return int(row.id)

    def claim_outbound(self, channel: str, limit: int = 50,
                       lease: timedelta = timedelta(seconds=60)) -> list[OutboundView]:
        """Take due messages to send: pending ones whose time has come, and ``sending`` ones whose sender died
        (lease expired). Each is marked ``sending`` with a fresh lease and one more attempt."""
        now = utcnow()
        with self._write() as session:
            query = (select(OutboundMessage).where(
                OutboundMessage.channel == channel,
                or_((OutboundMessage.status == "pending") & (OutboundMessage.not_before <= now),
                    (OutboundMessage.status == "sending") & (OutboundMessage.lease_until < now)))
                .order_by(OutboundMessage.not_before, OutboundMessage.id).limit(limit))
            if self.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(session.execute(query).scalars())
            for row in rows:
                row.status, row.lease_until, row.attempts = "sending", now + lease, int(row.attempts) + 1
            session.flush()
            return [_outbound_view(r) for r in rows]

    def mark_outbound_sent(self, outbound_id: int, external_id: str | None) -> None:
        with self._write() as session:
            row = self._get(session, OutboundMessage, outbound_id, "outbound message")
            row.status, row.external_id, row.sent_at, row.lease_until, row.error = (
                "sent", external_id, utcnow(), None, None)

    def mark_outbound_retry(self, outbound_id: int, error: str, retry_at: datetime) -> None:
        """Send it again at ``retry_at`` (a 429's ``retry_after``, a 5xx backoff)."""
        with self._write() as session:
            row = self._get(session, OutboundMessage, outbound_id, "outbound message")
            row.status, row.not_before, row.lease_until, row.error = "pending", retry_at, None, error[:_ERROR_MAX]

    def mark_outbound_failed(self, outbound_id: int, error: str) -> None:
        with self._write() as session:
            row = self._get(session, OutboundMessage, outbound_id, "outbound message")
            row.status, row.lease_until, row.error = "failed", None, error[:_ERROR_MAX]

    def list_outbound(self, channel: str | None = None, status: str | None = None,
                      kind: str | None = None) -> list[OutboundView]:
        with self._read() as session:
            query = select(OutboundMessage).order_by(OutboundMessage.id)
            if channel is not None:
                query = query.where(OutboundMessage.channel == channel)
            if status is not None:
                query = query.where(OutboundMessage.status == status)
            if kind is not None:
                query = query.where(OutboundMessage.kind == kind)
            return [_outbound_view(r) for r in session.execute(query).scalars()]

    # ---- notices ------------------------------------------------------------------------------------------------
    def get_notice(self, notice_id: int) -> NoticeView | None:
        with self._read() as session:
            row = session.execute(select(Notice, Grid.code).join(Grid, Grid.id == Notice.grid_id)
                                  .where(Notice.id == notice_id)).one_or_none()
            return None if row is None else _notice_view(*row)

    def latest_notice(self, grid_code: str, since: datetime) -> NoticeView | None:
        """The grid's newest notice created at or after ``since`` (what a bare "收到" acknowledges)."""
        with self._read() as session:
            row = session.execute(select(Notice, Grid.code).join(Grid, Grid.id == Notice.grid_id)
                                  .where(Grid.code == grid_code, Notice.created_at >= since)
                                  .order_by(Notice.created_at.desc(), Notice.id.desc()).limit(1)).one_or_none()
            return None if row is None else _notice_view(*row)

    # ---- WeChat's customer-service window ----------------------------------------------------------------------
    def note_inbound(self, channel: str, external_id: str) -> None:
        """A user wrote to us: their window opens afresh (48 h, count reset)."""
        with self._write() as session:
            row = session.execute(select(ServiceWindow).where(
                ServiceWindow.channel == channel, ServiceWindow.external_id == str(external_id))).scalar_one_or_none()
            if row is None:
                try:
                    with session.begin_nested():
                        session.add(ServiceWindow(channel=channel, external_id=str(external_id), sent=0))
                    return
                except IntegrityError:  # a concurrent first message: fall through and reset it
                    row = session.execute(select(ServiceWindow).where(
                        ServiceWindow.channel == channel, ServiceWindow.external_id == str(external_id))).scalar_one()
            row.opened_at, row.sent = utcnow(), 0

    def reserve_service_message(self, channel: str, external_id: str, window: timedelta = timedelta(hours=48),
                                limit: int = 5) -> bool:
        """Count one customer-service message; False (nothing counted) outside the window or over the limit."""
        now = utcnow()
        with self._write() as session:
            result = session.execute(update(ServiceWindow).where(
                ServiceWindow.channel == channel, ServiceWindow.external_id == str(external_id),
                ServiceWindow.opened_at > now - window, ServiceWindow.sent < limit,
            ).values(sent=ServiceWindow.sent + 1).execution_options(synchronize_session=False))
            return bool(result.rowcount == 1)

