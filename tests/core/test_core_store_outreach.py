"""Store: delivery dedupe, contact attempts, notices and receipts, audit log."""

from __future__ import annotations

from typing import Any

import pytest

from gridreach.errors import NotFound


def test_claim_message_dedupes_redelivery(store: Any) -> None:
    assert store.claim_message("wechat", "msg-1") is True
    assert store.claim_message("wechat", "msg-1") is False  # WeChat retries with the same MsgId
    assert store.claim_message("telegram", "msg-1") is True  # ids are per channel
    assert store.claim_message("wechat", "msg-2") is True


def test_claim_message_race(store: Any, run_together: Any) -> None:
    results = run_together(4, lambda i: store.claim_message("wechat", "burst"))
    assert sorted(results) == [False, False, False, True]


def test_contact_attempts(geo: Any, resident_id: int) -> None:
    attempt = geo.record_contact_attempt(resident_id, None, "voice", "dialing", external_id="CA123")
    view = geo.get_contact_attempt(attempt)
    assert (view.outcome, view.external_id, view.ended_at, view.detail) == ("dialing", "CA123", None, None)
    geo.update_contact_attempt(attempt, "in_progress", ended=False, detail={"line": 3})
    geo.update_contact_attempt(attempt, "no_answer", detail={"rings": 6})
    done = geo.get_contact_attempt(attempt)
    assert done.outcome == "no_answer" and done.detail == {"line": 3, "rings": 6}
    assert done.ended_at is not None and done.ended_at >= done.started_at
    assert geo.get_contact_attempt(attempt + 50) is None
    with pytest.raises(NotFound):
        geo.record_contact_attempt(resident_id, 12345, "voice", "dialing")
    with pytest.raises(NotFound):
        geo.update_contact_attempt(attempt + 50, "failed")


def test_notice_receipts_are_not_downgraded(geo: Any, resident_id: int) -> None:
    other = geo.add_resident("G01", "1栋102室", "赵六", "13500135000")
    notice = geo.create_notice("G01", "停水通知", "明天9点到12点停水。", "worker:王秀英")
    geo.record_receipt(notice, resident_id, "wechat", "delivered")
    geo.record_receipt(notice, resident_id, "wechat", "acknowledged")
    geo.record_receipt(notice, resident_id, "voice", "delivered")  # a late delivery report
    geo.record_receipt(notice, other, "telegram", "delivered")
    receipts = {r.resident_id: r for r in geo.notice_receipts(notice)}
    assert (receipts[resident_id].status, receipts[resident_id].channel) == ("acknowledged", "wechat")
    assert receipts[other].status == "delivered"
    geo.record_receipt(notice, other, "telegram", "asked_human")
    assert {r.resident_id: r.status for r in geo.notice_receipts(notice)}[other] == "asked_human"
    with pytest.raises(ValueError):
        geo.record_receipt(notice, other, "telegram", "read")
    with pytest.raises(NotFound):
        geo.create_notice("G77", "t", "b", "x")
    with pytest.raises(NotFound):
        geo.record_receipt(notice + 9, other, "telegram", "delivered")
    assert [e.action for e in geo.audit_entries("notice", notice)] == ["notice.create"]


def test_audit(store: Any) -> None:
    store.audit("staff:zhao", "export", "campaign", 7, {"format": "xlsx"})
    store.audit("system", "migrate", "database", None)
    entries = store.audit_entries()
    assert [(e.actor, e.action, e.target_type, e.target_id, e.detail) for e in entries] == [
        ("staff:zhao", "export", "campaign", "7", {"format": "xlsx"}),
        ("system", "migrate", "database", None, None),
    ]
    assert store.audit_entries("campaign", 7)[0].action == "export"
