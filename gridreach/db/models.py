"""SQLAlchemy 1.4 models (declarative, Column style).

The Alembic migrations under ``gridreach/db/migrations`` must agree with these
(``tests/core/test_migrations.py`` checks it on SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base

__all__ = ["Answer", "AuditLog", "Campaign", "CampaignLink", "ChannelIdentity", "ChatGroup", "Community", "ContactAttempt", "Grid", "GridWorker", "Household", "InboundMessage", "LimitedAttempt", "LinkCode", "Notice", "NoticeReceipt", "OptOut", "OutboundMessage", "PendingCampaign", "QuestionnaireVersion", "Resident", "SeenNonce", "ServiceWindow", "Street", "Submission", "WorkerCode", "WorkerIdentity", "utcnow"]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Base: Any = declarative_base(metadata=metadata)

LANGUAGES = ("zh", "en", "ko")
SUBMISSION_STATUSES = ("in_progress", "complete", "partial", "abandoned")
RISK_LEVELS = ("high", "moderate", "low")
RECEIPT_STATUSES = ("delivered", "acknowledged", "asked_human")
OUTBOUND_STATUSES = ("pending", "sending", "sent", "failed")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _fk(target: str) -> ForeignKey:
    return ForeignKey(target)


class Street(Base):
    __tablename__ = "streets"
    id = Column(Integer, primary_key=True)
    code = Column(String(32), nullable=False, unique=True)
    name = Column(String(200), nullable=False)


class Community(Base):
    __tablename__ = "communities"
    id = Column(Integer, primary_key=True)
    street_id = Column(Integer, _fk("streets.id"), nullable=False, index=True)
    code = Column(String(32), nullable=False, unique=True)
    name = Column(String(200), nullable=False)


class Grid(Base):
    __tablename__ = "grids"
    id = Column(Integer, primary_key=True)
    community_id = Column(Integer, _fk("communities.id"), nullable=False, index=True)
    code = Column(String(32), nullable=False, unique=True)
    name = Column(String(200), nullable=False)


class GridWorker(Base):
    __tablename__ = "grid_workers"
    __table_args__ = (CheckConstraint(_in("language", LANGUAGES), name="language"),)
    id = Column(Integer, primary_key=True)
    grid_id = Column(Integer, _fk("grids.id"), nullable=False, index=True)
    name = Column(String(200), nullable=False)
    phone = Column(String(20), nullable=False)
    language = Column(String(8), nullable=False, default="zh")


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("grid_id", "address"),)
    id = Column(Integer, primary_key=True)
    grid_id = Column(Integer, _fk("grids.id"), nullable=False)
    address = Column(String(500), nullable=False)


class Resident(Base):
    __tablename__ = "residents"
    __table_args__ = (CheckConstraint(_in("language", LANGUAGES), name="language"),)
    id = Column(Integer, primary_key=True)
    household_id = Column(Integer, _fk("households.id"), nullable=False, index=True)
    name = Column(String(200), nullable=False)
    phone = Column(String(20), nullable=True, unique=True)
    birth_year = Column(Integer, nullable=True)
    language = Column(String(8), nullable=False, default="zh")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ChannelIdentity(Base):
    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id = Column(Integer, primary_key=True)
    resident_id = Column(Integer, _fk("residents.id"), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    external_id = Column(String(200), nullable=False)


class OptOut(Base):
    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("resident_id", "channel"),)
    id = Column(Integer, primary_key=True)
    resident_id = Column(Integer, _fk("residents.id"), nullable=False)
    channel = Column(String(32), nullable=False)
    reason = Column(Text, nullable=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class QuestionnaireVersion(Base):
    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "version"),)
    id = Column(Integer, primary_key=True)
    questionnaire_id = Column(String(100), nullable=False)
    version = Column(Integer, nullable=False)
    content_hash = Column(String(128), nullable=False)
    title = Column(String(300), nullable=False)
    definition = Column(JSON, nullable=False)
    registered_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Campaign(Base):
    __tablename__ = "campaigns"
    id = Column(Integer, primary_key=True)
    name = Column(String(300), nullable=False)
    grid_id = Column(Integer, _fk("grids.id"), nullable=False, index=True)
    questionnaire_id = Column(String(100), nullable=False)
    questionnaire_version = Column(Integer, nullable=False)
    status = Column(String(32), nullable=False, default="draft")
    created_by = Column(String(200), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ContactAttempt(Base):
    __tablename__ = "contact_attempts"
    id = Column(Integer, primary_key=True)
    resident_id = Column(Integer, _fk("residents.id"), nullable=False, index=True)
    campaign_id = Column(Integer, _fk("campaigns.id"), nullable=True, index=True)
    channel = Column(String(32), nullable=False)
    outcome = Column(String(64), nullable=False)
    external_id = Column(String(200), nullable=True, index=True)
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    ended_at = Column(DateTime(timezone=True), nullable=True)
    detail = Column(JSON, nullable=True)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint(_in("status", SUBMISSION_STATUSES), name="status"),
        CheckConstraint(f"risk_level IS NULL OR {_in('risk_level', RISK_LEVELS)}", name="risk_level"),
    )
    id = Column(Integer, primary_key=True)
    resident_id = Column(Integer, _fk("residents.id"), nullable=False, index=True)
    campaign_id = Column(Integer, _fk("campaigns.id"), nullable=True, index=True)
    questionnaire_id = Column(String(100), nullable=False)
    questionnaire_version = Column(Integer, nullable=False)
    channel = Column(String(32), nullable=False)
    language = Column(String(8), nullable=False)
    status = Column(String(16), nullable=False, default="in_progress")
    risk_level = Column(String(16), nullable=True)
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    completed_at = Column(DateTime(timezone=True), nullable=True)


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("submission_id", "question_key"),)
    id = Column(Integer, primary_key=True)
    submission_id = Column(Integer, _fk("submissions.id"), nullable=False)
    question_key = Column(String(100), nullable=False)
    value = Column(JSON, nullable=True)
    raw_input = Column(Text, nullable=True)
    confidence = Column(Float, nullable=True)
    channel = Column(String(32), nullable=False)
    message_id = Column(String(200), nullable=True)
    answered_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    external_id = Column(String(200), nullable=False)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # 0004: a claim holds a lease until it is finished; an expired unfinished claim is taken by the redelivery.
    # ``progress`` records the side effects already done (step -> result), so a retry does each only once.
    claimed_at = Column(DateTime(timezone=True), nullable=True)
    lease_until = Column(DateTime(timezone=True), nullable=True)
    done = Column(Boolean, nullable=False, default=False, server_default="1")
    progress = Column(JSON, nullable=True)


class Notice(Base):
    __tablename__ = "notices"
    id = Column(Integer, primary_key=True)
    grid_id = Column(Integer, _fk("grids.id"), nullable=False, index=True)
    title = Column(String(300), nullable=False)
    body = Column(Text, nullable=False)
    created_by = Column(String(200), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class NoticeReceipt(Base):
    __tablename__ = "notice_receipts"
    __table_args__ = (
        UniqueConstraint("notice_id", "resident_id"),
        CheckConstraint(_in("status", RECEIPT_STATUSES), name="status"),
    )
    id = Column(Integer, primary_key=True)
    notice_id = Column(Integer, _fk("notices.id"), nullable=False)
    resident_id = Column(Integer, _fk("residents.id"), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AuditLog(Base):
    """Who did what to which row. ``detail`` never holds answer values or health data."""

    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    actor = Column(String(200), nullable=False)
    action = Column(String(100), nullable=False)
    target_type = Column(String(64), nullable=False)
    target_id = Column(String(64), nullable=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    detail = Column(JSON, nullable=True)


# ---- channels (0002) ------------------------------------------------------------------------------------------
class ChatGroup(Base):
    """A chat group bound to a grid: a Telegram group, a WeCom robot's group, a WeCom app group chat."""

    __tablename__ = "chat_groups"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    external_id = Column(String(200), nullable=False)
    grid_id = Column(Integer, _fk("grids.id"), nullable=False, index=True)
    title = Column(String(300), nullable=True)
    active = Column(Boolean, nullable=False, default=True)
    bound_by = Column(String(200), nullable=False)
    bound_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class WorkerIdentity(Base):
    """A grid worker's account on a channel (their Telegram user, their WeChat openid)."""

    __tablename__ = "worker_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id = Column(Integer, primary_key=True)
    grid_worker_id = Column(Integer, _fk("grid_workers.id"), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    external_id = Column(String(200), nullable=False)


class WorkerCode(Base):
    """The short code a grid worker gives residents so that they can bind themselves."""

    __tablename__ = "worker_codes"
    id = Column(Integer, primary_key=True)
    grid_worker_id = Column(Integer, _fk("grid_workers.id"), nullable=False, unique=True)
    code = Column(String(16), nullable=False, unique=True)


class LinkCode(Base):
    """A one-time code that binds a channel identity to one resident; only its hash is stored."""

    __tablename__ = "link_codes"
    id = Column(Integer, primary_key=True)
    code_hash = Column(String(64), nullable=False, unique=True)
    resident_id = Column(Integer, _fk("residents.id"), nullable=False, index=True)
    created_by = Column(String(200), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False)
    used_at = Column(DateTime(timezone=True), nullable=True)
    used_by = Column(String(240), nullable=True)


class CampaignLink(Base):
    """The token of a campaign's deep link (``t.me/<bot>?start=<token>``, a menu key)."""

    __tablename__ = "campaign_links"
    id = Column(Integer, primary_key=True)
    campaign_id = Column(Integer, _fk("campaigns.id"), nullable=False, unique=True)
    token = Column(String(32), nullable=False, unique=True)


class OutboundMessage(Base):
    """The outbox: a message to send, once, paced; ``dedupe_key`` makes a second enqueue a no-op."""

    __tablename__ = "outbound_messages"
    __table_args__ = (CheckConstraint(_in("status", OUTBOUND_STATUSES), name="status"),)
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    target = Column(String(200), nullable=False)
    kind = Column(String(32), nullable=False, default="message")
    payload = Column(JSON, nullable=False)
    dedupe_key = Column(String(300), nullable=False, unique=True)
    status = Column(String(16), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    not_before = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    lease_until = Column(DateTime(timezone=True), nullable=True)
    external_id = Column(String(200), nullable=True)
    error = Column(String(500), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = Column(DateTime(timezone=True), nullable=True)


class ServiceWindow(Base):
    """WeChat's customer-service window: opened by a user's message, a few messages within 48 h."""

    __tablename__ = "service_windows"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    external_id = Column(String(200), nullable=False)
    opened_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    sent = Column(Integer, nullable=False, default=0)


# ---- binding and replay protection (0003) ---------------------------------------------------------------------
class LimitedAttempt(Base):
    """One counted try of something limited (binding with a code): the limiter counts these rows in its window.

    A try is reserved before it is checked and kept when it failed; a success or a refused try deletes its row,
    so the table never holds more rows than the overall limit of each scope allows."""

    __tablename__ = "limited_attempts"
    __table_args__ = (Index("ix_limited_attempts_scope_subject", "scope", "subject"),)
    id = Column(Integer, primary_key=True)
    scope = Column(String(64), nullable=False)
    subject = Column(String(200), nullable=False)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class SeenNonce(Base):
    """A signed callback's (timestamp, nonce), kept for the signature's validity window to refuse a replay."""

    __tablename__ = "seen_nonces"
    __table_args__ = (UniqueConstraint("scope", "nonce_key"),)
    id = Column(Integer, primary_key=True)
    scope = Column(String(64), nullable=False)
    nonce_key = Column(String(64), nullable=False)
    body_hash = Column(String(64), nullable=False)
    expires_at = Column(DateTime(timezone=True), nullable=False, index=True)


class PendingCampaign(Base):
    """The campaign a person opened (a deep link) before their account was bound; started once they bind."""

    __tablename__ = "pending_campaigns"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    external_id = Column(String(200), nullable=False)
    campaign_id = Column(Integer, _fk("campaigns.id"), nullable=False, index=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
