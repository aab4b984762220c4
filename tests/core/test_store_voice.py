"""Store methods the voice caller needs: a call's vendor id, and outcomes moved by out-of-order callbacks."""

from __future__ import annotations

from typing import Any

import pytest

from gridreach.errors import NotFound, StorageError

PROGRESS = ("initiated", "ringing", "in-progress")


def test_the_call_sid_is_set_once(resident_id: int, geo: Any) -> None:
    attempt = geo.record_contact_attempt(resident_id, None, "voice", "initiated")
    geo.set_contact_attempt_external_id(attempt, "CA1")
    geo.set_contact_attempt_external_id(attempt, "CA1", outcome="ringing")  # the same id again is fine
    view = geo.get_contact_attempt(attempt)
    assert (view.external_id, view.outcome) == ("CA1", "ringing")
    with pytest.raises(StorageError):
        geo.set_contact_attempt_external_id(attempt, "CA2")
    assert geo.get_contact_attempt(attempt).external_id == "CA1"
    with pytest.raises(NotFound):
        geo.set_contact_attempt_external_id(attempt + 100, "CA3")


def test_outcomes_only_move_forward_and_repeats_change_nothing(resident_id: int, geo: Any) -> None:
    attempt = geo.record_contact_attempt(resident_id, None, "voice", "initiated")
    assert geo.advance_contact_attempt(attempt, "ringing", after=PROGRESS[:1], ended=False)
    assert geo.advance_contact_attempt(attempt, "in-progress", after=PROGRESS[:2], ended=False,
                                       detail={"answered_by": "human"})
    assert not geo.advance_contact_attempt(attempt, "ringing", after=PROGRESS[:1], ended=False)  # late
    assert geo.advance_contact_attempt(attempt, "completed", after=PROGRESS, ended=True, detail={"duration": 42})
    ended = geo.get_contact_attempt(attempt)
    assert not geo.advance_contact_attempt(attempt, "completed", after=PROGRESS, ended=True, detail={"duration": 42})
    assert not geo.advance_contact_attempt(attempt, "failed", after=PROGRESS, ended=True)
    view = geo.get_contact_attempt(attempt)
    assert view.outcome == "completed" and view.ended_at == ended.ended_at
    assert view.detail == {"answered_by": "human", "duration": 42}


def test_detail_alone_can_be_merged(resident_id: int, geo: Any) -> None:
    attempt = geo.record_contact_attempt(resident_id, None, "voice", "initiated", detail={"questionnaire": "q"})
    assert not geo.advance_contact_attempt(attempt, "initiated", after=(), ended=False, detail={"call_result": "x"})
    view = geo.get_contact_attempt(attempt)
    assert view.outcome == "initiated" and view.ended_at is None
    assert view.detail == {"questionnaire": "q", "call_result": "x"}
    with pytest.raises(NotFound):
        geo.advance_contact_attempt(attempt + 100, "completed", after=PROGRESS, ended=True)


def test_concurrent_callbacks_end_the_attempt_once(resident_id: int, geo: Any, run_together: Any) -> None:
    attempt = geo.record_contact_attempt(resident_id, None, "voice", "in-progress")
    changed = run_together(4, lambda i: geo.advance_contact_attempt(
        attempt, ("completed", "failed")[i % 2], after=PROGRESS, ended=True))
    assert sum(changed) == 1
    assert geo.get_contact_attempt(attempt).outcome in ("completed", "failed")
