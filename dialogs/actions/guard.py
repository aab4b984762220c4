"""Every action call is checked against the person it is for before any action runs.

The slots an action trusts (``resident_id``, ``submission_id``, ``q_state`` with the answers given so far) come
from the conversation tracker, which Rasa's HTTP API can rewrite and a bug could cross. So the tracker's
``sender_id`` is resolved to a resident, and a call whose slots name another resident, another resident's
submission, or answers that are not the ones stored for that submission is refused before any action runs
(``refusal`` returns why, in words that carry no value). Trusted-only message metadata is handled in
``dialogs.actions.common.metadata_of``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from dialogs.actions.services import services

__all__ = ["refusal"]


def _same(a: Any, b: Any) -> bool:
    def norm(v: Any) -> str:
        if isinstance(v, bool) or v is None:
            return json.dumps(v)
        if isinstance(v, (int, float)):
            return repr(float(v))
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, (list, tuple)):
            return json.dumps([norm(x) for x in v])
        if isinstance(v, dict):
            return json.dumps({str(k): norm(x) for k, x in sorted(v.items())})
        return str(v)

    return norm(a) == norm(b)


def refusal(action_call: dict[str, Any]) -> str | None:
    """None when the call's slots belong to its sender; else why it is refused (no slot value in the text)."""
    tracker = action_call.get("tracker")
    if not isinstance(tracker, dict):
        return None  # rasa_sdk itself answers a call without a tracker
    slots = tracker.get("slots") or {}
    if not isinstance(slots, dict):
        return "the tracker's slots are not a mapping"
    resident_slot, submission_slot, state = slots.get("resident_id"), slots.get("submission_id"), slots.get("q_state")
    if resident_slot is None and submission_slot is None and not state:
        return None
    svc = services()
    resident = svc.resident_for(str(tracker.get("sender_id") or ""))
    if resident is None:
        return "the conversation's sender is not a bound resident but its slots name a resident's run"
    if resident_slot is not None and str(resident_slot) != str(resident.id):
        return "the resident_id slot names another resident"
    if submission_slot is None:
        return None
    try:
        submission = svc.store.get_submission(int(submission_slot))
    except (TypeError, ValueError):
        return "the submission_id slot is not a submission id"
    if submission is None or submission.resident_id != resident.id:
        return "the submission_id slot names another resident's submission"
    if isinstance(state, dict):
        if (state.get("questionnaire_id"), state.get("version")) != (
            submission.questionnaire_id, submission.questionnaire_version
        ):
            return "the q_state slot is not the submission's questionnaire"
        answers = state.get("answers") or {}
        if not isinstance(answers, dict):
            return "the q_state slot's answers are not a mapping"
        for key, value in answers.items():
            stored = submission.answers.get(key)
            if stored is None or not _same(stored.value, value):
                return "the q_state slot carries an answer that is not the one stored for the submission"
    return None
