"""Retention: what GridReach keeps, for how long, and the purge that enforces it.

Nothing kept only grows. ``Store.purge(policy)`` deletes, in one pass:

- Rasa conversation trackers (the ``events`` table of Rasa's SQL tracker store, in its own database) of a conversation
  whose last turn is older than ``trackers_days`` and whose resident has no campaign still running or ended less than
  ``trackers_days`` ago: by default a conversation is kept until 30 days after its campaign ends;
- ids of inbound messages kept to ignore duplicate deliveries (``inbound_messages``), older than ``message_ids_days``:
  platforms redeliver within minutes or hours, never weeks;
- the outbox's finished rows (sent or failed) older than ``outbox_days``.

Submissions and answers are the record of the emergency and are not purged here; the audit log is kept with them.
Every purge writes one audit entry with the counts (never a sender id or a text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from gridreach.db.engine import make_engine
from gridreach.db.models import AuditLog, Campaign, InboundMessage, OutboundMessage, Submission, utcnow
from gridreach.errors import ConfigError, StorageError
from gridreach.identity import parse_sender_id
from gridreach.store._base import StoreBase, aware

__all__ = ["PurgeReport", "RetentionMixin", "RetentionPolicy"]

#: environment key → field of RetentionPolicy
ENV_KEYS = {"GRIDREACH_RETAIN_TRACKERS_DAYS": "trackers_days",
            "GRIDREACH_RETAIN_MESSAGE_IDS_DAYS": "message_ids_days",
            "GRIDREACH_RETAIN_OUTBOX_DAYS": "outbox_days"}
_ENDED = ("finished",)
_BATCH = 500


@dataclass(frozen=True)
class RetentionPolicy:
    """How many days each kind of record is kept (see the module docstring)."""

    trackers_days: int = 30
    message_ids_days: int = 14
    outbox_days: int = 14

    def __post_init__(self) -> None:
        for name in ("trackers_days", "message_ids_days", "outbox_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(name, "must be a whole number of days, at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RetentionPolicy:
        """Read ``GRIDREACH_RETAIN_*_DAYS``; a bad value is a ConfigError naming its key."""
        values: dict[str, int] = {}
        for key, name in ENV_KEYS.items():
            raw = (environ.get(key) or "").strip()
            if not raw:
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                raise ConfigError(key, f"must be a whole number of days, not {raw!r}") from None
        try:
            return cls(**values)
        except ConfigError as exc:
            key = next(k for k, n in ENV_KEYS.items() if n == exc.key)
            raise ConfigError(key, exc.reason) from None


@dataclass(frozen=True)
class PurgeReport:
    """What a purge deleted (or, with ``dry_run``, would delete)."""

    conversations: int
    tracker_events: int
    message_ids: int
    outbox: int
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        return {"conversations": self.conversations, "tracker_events": self.tracker_events,
                "message_ids": self.message_ids, "outbox": self.outbox, "dry_run": self.dry_run}


def _tracker_time(value: Any) -> datetime:
    return datetime.fromtimestamp(float(value), tz=timezone.utc)


class RetentionMixin(StoreBase):
    """``purge``: the retention policy, applied."""

    def purge(self, policy: RetentionPolicy, *, tracker_url: str | None = None, now: datetime | None = None,
              dry_run: bool = False, actor: str = "retention") -> PurgeReport:
        """Delete what the policy no longer keeps; ``tracker_url`` is Rasa's SQL tracker store (None: none)."""
        now = now or utcnow()
        conversations, events = self._purge_trackers(tracker_url, policy, now, dry_run) if tracker_url else (0, 0)
        ids_before = now - timedelta(days=policy.message_ids_days)
        outbox_before = now - timedelta(days=policy.outbox_days)
        with self._write() as session:
            old_ids = InboundMessage.received_at < ids_before
            old_out = (OutboundMessage.status.in_(("sent", "failed")),
                       func.coalesce(OutboundMessage.sent_at, OutboundMessage.created_at) < outbox_before)
            if dry_run:
                message_ids = session.execute(select(func.count()).select_from(InboundMessage).where(old_ids))
                outbox = session.execute(select(func.count()).select_from(OutboundMessage).where(*old_out))
                ids_count, out_count = int(message_ids.scalar_one()), int(outbox.scalar_one())
            else:
                bulk = {"synchronize_session": False}
                ids_count = int(session.execute(delete(InboundMessage).where(old_ids), execution_options=bulk)
                                .rowcount or 0)
                out_count = int(session.execute(delete(OutboundMessage).where(*old_out), execution_options=bulk)
                                .rowcount or 0)
            report = PurgeReport(conversations, events, ids_count, out_count, dry_run)
            if not dry_run:
                session.add(AuditLog(actor=actor, action="retention.purge", target_type="store", target_id=None,
                                     detail={**report.as_dict(), "policy": policy.__dict__}))
        return report

    # ---- trackers --------------------------------------------------------------------------------------------
    def _kept_residents(self, policy: RetentionPolicy, now: datetime) -> set[int]:
        """Residents with a submission in a campaign still running, or ended within ``trackers_days``."""
        ended_after = now - timedelta(days=policy.trackers_days)
        with self._read() as session:
            ended = dict(session.execute(
                select(AuditLog.target_id, func.max(AuditLog.at))
                .where(AuditLog.target_type == "campaign", AuditLog.action.in_([f"campaign.{s}" for s in _ENDED]))
                .group_by(AuditLog.target_id)).all())
            rows = session.execute(
                select(Submission.resident_id, Campaign.id, Campaign.status)
                .join(Campaign, Campaign.id == Submission.campaign_id)).all()
        kept: set[int] = set()
        for resident_id, campaign_id, status in rows:
            when = aware(ended.get(str(campaign_id)))
            if status not in _ENDED or when is None or when > ended_after:
                kept.add(int(resident_id))
        return kept

    def _purge_trackers(self, url: str, policy: RetentionPolicy, now: datetime, dry_run: bool) -> tuple[int, int]:
        kept = self._kept_residents(policy, now)
        before = now - timedelta(days=policy.trackers_days)
        engine: Engine = make_engine(url)
        try:
            with engine.begin() as conn:
                last_turns = conn.execute(text("SELECT sender_id, MAX(timestamp) FROM events GROUP BY sender_id"))
                stale = [sender for sender, last in last_turns if _tracker_time(last) < before
                         and _resident(sender) not in kept]
                events = 0
                for start in range(0, len(stale), _BATCH):
                    batch = {"s": tuple(stale[start:start + _BATCH])}
                    if dry_run:
                        query = text("SELECT COUNT(*) FROM events WHERE sender_id IN :s").bindparams(
                            bindparam("s", expanding=True))
                        events += int(conn.execute(query, batch).scalar_one())
                    else:
                        query = text("DELETE FROM events WHERE sender_id IN :s").bindparams(bindparam("s", expanding=True))
                        events += int(conn.execute(query, batch).rowcount or 0)
        except SQLAlchemyError as exc:
            raise StorageError(f"the tracker store at {engine.url.render_as_string(hide_password=True)} could not "
                               f"be purged ({exc.__class__.__name__}); is it Rasa's SQL tracker store?") from None
        finally:
            engine.dispose()
        return len(stale), events


def _resident(sender_id: str) -> int | None:
    try:
        return parse_sender_id(sender_id).resident_id
    except ValueError:
        return None
