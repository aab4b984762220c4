"""Store: groups bound to grids, grid workers on channels, one-time codes, campaign links, outbox, service windows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from gridreach.db.models import LinkCode, OutboundMessage, ServiceWindow, utcnow
from gridreach.errors import GroupConflict, LinkCodeError, NotFound


def test_bind_rebind_migrate_and_deactivate_a_group(geo: Any) -> None:
    group = geo.bind_group("telegram", "-100", "G01", "幸福一群", "worker:1")
    assert (group.grid_code, group.active, group.title) == ("G01", True, "幸福一群")
    assert geo.bind_group("telegram", "-100", "G02", None, "worker:1").grid_code == "G02"  # re-bound, title kept
    assert geo.get_group("telegram", "-100").title == "幸福一群"
    moved = geo.migrate_group("telegram", "-100", "-1009")
    assert moved is not None and moved.external_id == "-1009" and moved.grid_code == "G02"
    assert geo.get_group("telegram", "-100") is None
    assert geo.migrate_group("telegram", "-555", "-5559") is None  # never bound: nothing to carry
    geo.deactivate_group("telegram", "-1009", "bot removed")
    assert geo.groups_for_grid("G02") == []
    assert [g.active for g in geo.groups_for_grid("G02", active_only=False)] == [False]
    assert geo.bind_group("telegram", "-1009", "G02", None, "worker:1").active is True
    with pytest.raises(NotFound):
        geo.bind_group("telegram", "-7", "G77", None, "worker:1")
    actions = [e.action for e in geo.audit_entries()]
    assert actions.count("group_bound") == 3 and "group_migrated" in actions and "group_deactivated" in actions


def test_a_worker_cannot_take_over_a_group_bound_to_another_grid(geo: Any, run_together: Any) -> None:
    geo.bind_group("telegram", "-200", "G01", "一群", "worker:1", takeover=False)
    with pytest.raises(GroupConflict) as taken:
        geo.bind_group("telegram", "-200", "G02", None, "worker:2", takeover=False)
    assert taken.value.grid == "G01" and geo.get_group("telegram", "-200").grid_code == "G01"
    assert geo.bind_group("telegram", "-200", "G01", None, "worker:1", takeover=False).grid_code == "G01"
    assert geo.bind_group("telegram", "-200", "G02", None, "admin", takeover=True).grid_code == "G02"
    geo.deactivate_group("telegram", "-200", "left")
    assert geo.bind_group("telegram", "-200", "G01", None, "worker:1", takeover=False).grid_code == "G01"

    def race(i: int) -> str:  # two workers of two grids bind one new group at the same moment: one wins
        try:
            return geo.bind_group("telegram", "-300", ("G01", "G02")[i], None, f"worker:{i}", takeover=False).grid_code
        except GroupConflict:
            return "refused"

    results = run_together(2, race)
    assert sorted(results)[1] == "refused" and geo.get_group("telegram", "-300").grid_code == sorted(results)[0]


def test_groups_are_listed_per_grid_and_channel(geo: Any) -> None:
    geo.bind_group("telegram", "-1", "G01", "a", "w")
    geo.bind_group("wecom_robot", "building-3", "G01", "b", "w")
    geo.bind_group("telegram", "-2", "G02", "c", "w")
    assert [g.external_id for g in geo.groups_for_grid("G01")] == ["-1", "building-3"]
    assert [g.external_id for g in geo.groups_for_grid("G01", "wecom_robot")] == ["building-3"]


def test_migration_onto_an_already_bound_id_keeps_one_active_group(geo: Any) -> None:
    geo.bind_group("telegram", "-100", "G01", "old", "w")
    geo.bind_group("telegram", "-1009", "G01", "new", "w")
    assert geo.migrate_group("telegram", "-100", "-1009").external_id == "-1009"
    assert [g.external_id for g in geo.groups_for_grid("G01", "telegram")] == ["-1009"]


def test_grid_workers_on_channels_and_their_codes(geo: Any) -> None:
    worker = geo.find_grid_worker_by_phone("13800138000")
    assert worker is not None and worker.grid_code == "G01"
    assert geo.find_grid_worker_by_phone("not a phone") is None
    assert geo.find_grid_worker_by_phone("+8613900000000") is None
    assert geo.worker_by_identity("telegram", "42") is None
    geo.link_worker_identity(worker.id, "telegram", "42")
    geo.link_worker_identity(worker.id, "telegram", "42")  # idempotent
    assert geo.worker_by_identity("telegram", "42") == worker
    code = geo.worker_code(worker.id)
    assert len(code) == 6 and geo.worker_code(worker.id) == code
    assert geo.worker_by_code(code.lower()) == worker
    assert geo.worker_by_code("ZZZZZZ") is None
    with pytest.raises(NotFound):
        geo.link_worker_identity(999, "telegram", "43")


def test_a_link_code_binds_once(geo: Any, resident_id: int) -> None:
    code = geo.issue_link_code(resident_id, "worker:1")
    assert len(code) == 8 and code.isdigit()
    resident = geo.redeem_link_code(code, "telegram", "777")
    assert resident.id == resident_id
    assert geo.resident_by_identity("telegram", "777").id == resident_id
    with pytest.raises(LinkCodeError) as used:
        geo.redeem_link_code(code, "telegram", "888")
    assert used.value.reason == "used"
    assert geo.resident_by_identity("telegram", "888") is None
    with pytest.raises(LinkCodeError) as unknown:
        geo.redeem_link_code("00000000" if code != "00000000" else "11111111", "telegram", "888")
    assert unknown.value.reason == "unknown"


def test_an_expired_link_code_is_refused(geo: Any, resident_id: int) -> None:
    code = geo.issue_link_code(resident_id, "worker:1", ttl=timedelta(hours=1))
    with geo._write() as session:
        session.execute(update(LinkCode).values(expires_at=utcnow() - timedelta(minutes=1)))
    with pytest.raises(LinkCodeError) as expired:
        geo.redeem_link_code(code, "wechat", "openid-1")
    assert expired.value.reason == "expired"
    assert geo.resident_by_identity("wechat", "openid-1") is None


def test_racing_redemptions_bind_one_account(geo: Any, resident_id: int, run_together: Any) -> None:
    code = geo.issue_link_code(resident_id, "worker:1")

    def redeem(i: int) -> str:
        try:
            geo.redeem_link_code(code, "telegram", f"racer-{i}")
            return "bound"
        except LinkCodeError as exc:
            return exc.reason

    assert sorted(run_together(4, redeem)) == ["bound", "used", "used", "used"]


def test_campaign_tokens(geo: Any) -> None:
    geo.register_questionnaire("daily_health", 1, "h", "Daily", {"id": "daily_health"})
    campaign = geo.create_campaign("screen G01", "G01", "daily_health", 1, "worker:1")
    token = geo.campaign_token(campaign)
    assert token == geo.campaign_token(campaign) and len(token) <= 32
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    assert geo.campaign_by_token(token).id == campaign
    assert geo.campaign_by_token("nope") is None
    with pytest.raises(NotFound):
        geo.campaign_token(campaign + 100)


def test_the_outbox_sends_each_message_once(geo: Any) -> None:
    first = geo.enqueue_outbound("telegram", "-100", {"text": "通知"}, "notice:1:-100", kind="notice")
    assert first is not None
    assert geo.enqueue_outbound("telegram", "-100", {"text": "通知"}, "notice:1:-100", kind="notice") is None
    geo.enqueue_outbound("telegram", "-200", {"text": "通知"}, "notice:1:-200", kind="notice")
    geo.enqueue_outbound("telegram", "-300", {"text": "later"}, "notice:1:-300",
                         not_before=utcnow() + timedelta(hours=1))
    claimed = geo.claim_outbound("telegram")
    assert [m.target for m in claimed] == ["-100", "-200"]
    assert all(m.status == "sending" and m.attempts == 1 for m in claimed)
    assert geo.claim_outbound("telegram") == []  # leased: nobody else takes them
    geo.mark_outbound_sent(claimed[0].id, "5001")
    geo.mark_outbound_retry(claimed[1].id, "429 retry after 3", utcnow() - timedelta(seconds=1))
    again = geo.claim_outbound("telegram")
    assert [(m.target, m.attempts) for m in again] == [("-200", 2)]
    geo.mark_outbound_failed(again[0].id, "x" * 900)
    sent = geo.list_outbound("telegram", status="sent")
    assert [(m.target, m.external_id) for m in sent] == [("-100", "5001")]
    failed = geo.list_outbound(status="failed")
    assert len(failed[0].error) == 500
    assert [m.target for m in geo.list_outbound(kind="notice")] == ["-100", "-200"]


def test_a_dead_senders_lease_expires(geo: Any) -> None:
    geo.enqueue_outbound("wecom_robot", "building-3", {"text": "t"}, "k1")
    taken = geo.claim_outbound("wecom_robot", lease=timedelta(seconds=60))
    assert len(taken) == 1
    with geo._write() as session:
        session.execute(update(OutboundMessage).values(lease_until=utcnow() - timedelta(seconds=1)))
    retaken = geo.claim_outbound("wecom_robot")
    assert [(m.id, m.attempts) for m in retaken] == [(taken[0].id, 2)]


def test_concurrent_senders_never_take_the_same_message(geo: Any, run_together: Any) -> None:
    for i in range(20):
        geo.enqueue_outbound("telegram", f"-{i}", {"text": "t"}, f"k{i}")
    batches = run_together(4, lambda i: [m.id for m in geo.claim_outbound("telegram", limit=8)])
    taken = [m for batch in batches for m in batch]
    assert len(taken) == len(set(taken)) == 20


def test_service_window_counts_and_expires(geo: Any) -> None:
    assert geo.reserve_service_message("wechat", "o1") is False  # never wrote to us
    geo.note_inbound("wechat", "o1")
    assert [geo.reserve_service_message("wechat", "o1", limit=5) for _ in range(6)] == [True] * 5 + [False]
    geo.note_inbound("wechat", "o1")  # a new message resets the count
    assert geo.reserve_service_message("wechat", "o1") is True
    with geo._write() as session:
        session.execute(update(ServiceWindow).values(opened_at=utcnow() - timedelta(hours=49)))
    assert geo.reserve_service_message("wechat", "o1") is False


def test_latest_notice_of_a_grid(geo: Any) -> None:
    before = utcnow() - timedelta(seconds=1)
    assert geo.latest_notice("G01", before) is None
    first = geo.create_notice("G01", "停水", "明天停水", "worker:1")
    second = geo.create_notice("G01", "核酸", "今天下午核酸检测", "worker:1")
    geo.create_notice("G02", "其他", "别的网格", "worker:2")
    latest = geo.latest_notice("G01", before)
    assert latest is not None and latest.id == second and latest.grid_code == "G01" and latest.title == "核酸"
    assert geo.latest_notice("G01", utcnow() + timedelta(minutes=1)) is None
    assert geo.get_notice(first).body == "明天停水"
    assert geo.get_notice(first + 100) is None


def test_has_other_identity(geo: Any, resident_id: int) -> None:
    assert geo.has_other_identity(resident_id, "wechat", "o1") is False
    geo.link_identity(resident_id, "wechat", "o1")
    assert geo.has_other_identity(resident_id, "wechat", "o1") is False  # the same account
    assert geo.has_other_identity(resident_id, "wechat", "o2") is True
    assert geo.has_other_identity(resident_id, "telegram", "o2") is False  # per channel
