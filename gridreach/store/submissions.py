"""Questionnaire versions, campaigns, submissions and answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridreach.db.models import (
    RISK_LEVELS,
    SUBMISSION_STATUSES,
    Answer,
    Campaign,
    Grid,
    QuestionnaireVersion,
    Resident,
    Submission,
    utcnow,
)
from gridreach.errors import NotFound, QuestionnaireVersionConflict
from gridreach.store._base import StoreBase, aware, aware_now
from gridreach.views import AnswerView, CampaignView, QuestionnaireView, SubmissionView

__all__ = ["SubmissionsMixin"]

CAMPAIGN_STATUSES = ("draft", "running", "paused", "finished")


class SubmissionsMixin(StoreBase):
    # ---- questionnaires ------------------------------------------------------------
    def register_questionnaire(
        self, questionnaire_id: str, version: int, content_hash: str, title: str, definition: dict[str, Any]
    ) -> bool:
        """Register a questionnaire version; True if new, False if already there unchanged.

        Raises ``QuestionnaireVersionConflict`` when the id + version exists with other content.
        """
        with self._write() as session:
            existing = _questionnaire(session, questionnaire_id, version)
            if existing is None:
                try:
                    with session.begin_nested():
                        session.add(
                            QuestionnaireVersion(
                                questionnaire_id=questionnaire_id,
                                version=version,
                                content_hash=content_hash,
                                title=title,
                                definition=definition,
                            )
                        )
                    return True
                except IntegrityError:
                    existing = _questionnaire(session, questionnaire_id, version)
            if existing.content_hash != content_hash:
                raise QuestionnaireVersionConflict(
                    f"questionnaire {questionnaire_id!r} version {version} is already registered with "
                    "different content: edit the questionnaire? bump its version"
                )
            return False

    def get_questionnaire(self, questionnaire_id: str, version: int) -> QuestionnaireView | None:
        with self._read() as session:
            row = _questionnaire(session, questionnaire_id, version)
            if row is None:
                return None
            return QuestionnaireView(
                row.questionnaire_id, row.version, row.content_hash, row.title, row.definition
            )

    # ---- campaigns -----------------------------------------------------------------
    def create_campaign(
        self, name: str, grid_code: str, questionnaire_id: str, questionnaire_version: int, created_by: str
    ) -> int:
        with self._write() as session:
            grid_id = self._grid_id(session, grid_code)
            if _questionnaire(session, questionnaire_id, questionnaire_version) is None:
                raise NotFound(
                    f"questionnaire {questionnaire_id!r} version {questionnaire_version} is not registered"
                )
            campaign = Campaign(
                name=name,
                grid_id=grid_id,
                questionnaire_id=questionnaire_id,
                questionnaire_version=questionnaire_version,
                created_by=created_by,
            )
            session.add(campaign)
            session.flush()
            self._audit(session, created_by, "campaign.create", "campaign", campaign.id, {"grid": grid_code})
            return int(campaign.id)

    def get_campaign(self, campaign_id: int) -> CampaignView | None:
        with self._read() as session:
            row = session.execute(
                select(Campaign, Grid.code)
                .join(Grid, Grid.id == Campaign.grid_id)
                .where(Campaign.id == campaign_id)
            ).one_or_none()
            if row is None:
                return None
            c, grid_code = row
            return CampaignView(
                c.id,
                c.name,
                grid_code,
                c.questionnaire_id,
                c.questionnaire_version,
                c.status,
                c.created_by,
                aware_now(c.created_at),
            )

    def set_campaign_status(self, campaign_id: int, status: str, actor: str) -> None:
        if status not in CAMPAIGN_STATUSES:
            raise ValueError(f"campaign status must be one of {', '.join(CAMPAIGN_STATUSES)}")
        with self._write() as session:
            campaign = self._get(session, Campaign, campaign_id, "campaign")
            campaign.status = status
            self._audit(session, actor, f"campaign.{status}", "campaign", campaign_id)

    # ---- submissions ---------------------------------------------------------------
    def start_submission(
        self,
        resident_id: int,
        questionnaire_id: str,
        questionnaire_version: int,
        campaign_id: int | None,
        channel: str,
        language: str,
    ) -> int:
        """Open a submission, or return the one already in progress for the same
        resident + campaign + questionnaire + version."""
        with self._write() as session:
            # lock the resident row (PostgreSQL) so two channels cannot open two submissions
            locked = session.execute(
                select(Resident.id).where(Resident.id == resident_id).with_for_update()
            ).scalar_one_or_none()
            if locked is None:
                raise NotFound(f"unknown resident {resident_id}")
            found = session.execute(
                select(Submission.id)
                .where(
                    Submission.resident_id == resident_id,
                    Submission.campaign_id.is_(None)
                    if campaign_id is None
                    else Submission.campaign_id == campaign_id,
                    Submission.questionnaire_id == questionnaire_id,
                    Submission.questionnaire_version == questionnaire_version,
                    Submission.status == "in_progress",
                )
                .order_by(Submission.id)
                .limit(1)
            ).scalar_one_or_none()
            if found is not None:
                return int(found)
            submission = Submission(
                resident_id=resident_id,
                campaign_id=campaign_id,
                questionnaire_id=questionnaire_id,
                questionnaire_version=questionnaire_version,
                channel=channel,
                language=language,
            )
            session.add(submission)
            session.flush()
            return int(submission.id)

    def record_answer(
        self,
        submission_id: int,
        key: str,
        value: Any,
        raw: str | None,
        confidence: float | None,
        channel: str,
        message_id: str | None = None,
    ) -> bool:
        """Store the answer to ``key``; one row per (submission, key).

        True when stored (first answer, or a changed answer that replaces the old one and
        is audited); False when nothing changed (same message delivered again, or the same
        value and raw text). Safe against concurrent writers: a lost insert race re-reads.
        """
        with self._write() as session:
            submission = self._get(session, Submission, submission_id, "submission")
            existing = _answer(session, submission_id, key)
            if existing is None:
                try:
                    with session.begin_nested():
                        session.add(
                            Answer(
                                submission_id=submission_id,
                                question_key=key,
                                value=value,
                                raw_input=raw,
                                confidence=confidence,
                                channel=channel,
                                message_id=message_id,
                            )
                        )
                    submission.updated_at = utcnow()
                    return True
                except IntegrityError:
                    existing = _answer(session, submission_id, key)
            if message_id is not None and existing.message_id == message_id:
                return False
            if existing.value == value and existing.raw_input == raw:
                return False
            existing.value, existing.raw_input, existing.confidence = value, raw, confidence
            existing.channel, existing.message_id, existing.answered_at = channel, message_id, utcnow()
            submission.updated_at = utcnow()
            self._audit(
                session,
                f"resident:{submission.resident_id}",
                "answer.replace",
                "submission",
                submission_id,
                {"question_key": key, "channel": channel},
            )
            return True

    def finish_submission(self, submission_id: int, status: str, risk_level: str | None = None) -> None:
        if status not in SUBMISSION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(SUBMISSION_STATUSES)}")
        if risk_level is not None and risk_level not in RISK_LEVELS:
            raise ValueError(f"risk level must be one of {', '.join(RISK_LEVELS)}")
        with self._write() as session:
            submission = self._get(session, Submission, submission_id, "submission")
            now = utcnow()
            submission.status, submission.risk_level, submission.updated_at = status, risk_level, now
            submission.completed_at = None if status == "in_progress" else now

    def get_submission(self, submission_id: int) -> SubmissionView | None:
        with self._read() as session:
            s = session.get(Submission, submission_id)
            if s is None:
                return None
            answers = session.execute(
                select(Answer).where(Answer.submission_id == submission_id).order_by(Answer.id)
            ).scalars()
            return SubmissionView(
                id=s.id,
                resident_id=s.resident_id,
                campaign_id=s.campaign_id,
                questionnaire_id=s.questionnaire_id,
                questionnaire_version=s.questionnaire_version,
                channel=s.channel,
                language=s.language,
                status=s.status,
                risk_level=s.risk_level,
                started_at=aware_now(s.started_at),
                updated_at=aware_now(s.updated_at),
                completed_at=aware(s.completed_at),
                answers={
                    a.question_key: AnswerView(
                        a.value, a.raw_input, a.confidence, a.channel, aware_now(a.answered_at)
                    )
                    for a in answers
                },
            )

    def latest_submission(self, resident_id: int, questionnaire_id: str | None = None) -> SubmissionView | None:
        """The resident's most recently started submission (of one questionnaire, if given)."""
        with self._read() as session:
            query = select(Submission.id).where(Submission.resident_id == resident_id)
            if questionnaire_id is not None:
                query = query.where(Submission.questionnaire_id == questionnaire_id)
            found = session.execute(query.order_by(Submission.id.desc()).limit(1)).scalar_one_or_none()
        return None if found is None else self.get_submission(found)


def _questionnaire(session: Session, questionnaire_id: str, version: int) -> Any:
    return session.execute(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.questionnaire_id == questionnaire_id, QuestionnaireVersion.version == version
        )
    ).scalar_one_or_none()


def _answer(session: Session, submission_id: int, key: str) -> Any:
    return session.execute(
        select(Answer).where(Answer.submission_id == submission_id, Answer.question_key == key)
    ).scalar_one_or_none()
