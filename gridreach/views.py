"""Frozen views returned by ``gridreach.store.Store`` (never ORM objects)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "AnswerView",
    "AuditEntry",
    "CampaignView",
    "ChatGroupView",
    "ContactAttemptView",
    "GridSummary",
    "GridView",
    "GridWorkerView",
    "NewResident",
    "NoticeView",
    "OutboundView",
    "QuestionnaireView",
    "ReceiptView",
    "ResidentView",
    "SubmissionView",
]


@dataclass(frozen=True)
class GridView:
    code: str
    name: str
    community_code: str
    community_name: str
    street_code: str
    street_name: str


@dataclass(frozen=True)
class GridWorkerView:
    id: int
    grid_code: str
    name: str
    phone: str
    language: str


@dataclass(frozen=True)
class ResidentView:
    id: int
    name: str
    phone: str | None
    birth_year: int | None
    language: str
    grid_code: str
    household_address: str
    community_name: str
    grid_worker_name: str | None


@dataclass(frozen=True)
class NewResident:
    """One resident to add (already validated and normalised by the caller)."""

    grid_code: str
    address: str
    name: str
    phone: str | None
    birth_year: int | None = None
    language: str = "zh"


@dataclass(frozen=True)
class QuestionnaireView:
    questionnaire_id: str
    version: int
    content_hash: str
    title: str
    definition: Mapping[str, Any]


@dataclass(frozen=True)
class CampaignView:
    id: int
    name: str
    grid_code: str
    questionnaire_id: str
    questionnaire_version: int
    status: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class AnswerView:
    value: Any
    raw: str | None
    confidence: float | None
    channel: str
    answered_at: datetime


@dataclass(frozen=True)
class SubmissionView:
    id: int
    resident_id: int
    campaign_id: int | None
    questionnaire_id: str
    questionnaire_version: int
    channel: str
    language: str
    status: str
    risk_level: str | None
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    answers: Mapping[str, AnswerView] = field(default_factory=dict)


@dataclass(frozen=True)
class ContactAttemptView:
    id: int
    resident_id: int
    campaign_id: int | None
    channel: str
    outcome: str
    external_id: str | None
    started_at: datetime
    ended_at: datetime | None
    detail: Mapping[str, Any] | None


@dataclass(frozen=True)
class ReceiptView:
    notice_id: int
    resident_id: int
    channel: str
    status: str
    at: datetime


@dataclass(frozen=True)
class GridSummary:
    """Per grid, each resident counted once, by the best status of their submissions.

    ``complete + partial + in_progress + abandoned + not_reached == residents``;
    ``risk`` counts residents by the highest risk level of their submissions.
    """

    grid_code: str
    grid_name: str
    community_name: str
    residents: int
    complete: int
    partial: int
    in_progress: int
    abandoned: int
    not_reached: int
    risk: Mapping[str, int]


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor: str
    action: str
    target_type: str
    target_id: str | None
    at: datetime
    detail: Mapping[str, Any] | None


@dataclass(frozen=True)
class ChatGroupView:
    id: int
    channel: str
    external_id: str
    grid_code: str
    title: str | None
    active: bool
    bound_by: str


@dataclass(frozen=True)
class OutboundView:
    """One outbox row; ``payload`` is what the channel's sender needs (text, buttons...)."""

    id: int
    channel: str
    target: str
    kind: str
    payload: Mapping[str, Any]
    dedupe_key: str
    status: str
    attempts: int
    external_id: str | None
    error: str | None
    not_before: datetime


@dataclass(frozen=True)
class NoticeView:
    id: int
    grid_code: str
    title: str
    body: str
    created_by: str
    created_at: datetime
