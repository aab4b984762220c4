"""Claims of inbound messages (issue 9, item 10): a lease, a done flag, the progress of a retried message."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from gridreach.db.engine import make_engine
from gridreach.db.migrate import upgrade
from gridreach.errors import NotFound
from gridreach.store import Store

SHORT = timedelta(milliseconds=200)


def test_a_finished_claim_ignores_every_redelivery(store: Any) -> None:
    assert store.claim_inbound("telegram_update", "1:10") == "claimed"
    assert store.claim_inbound("telegram_update", "1:10") == "busy"  # still being handled elsewhere
    store.finish_message("telegram_update", "1:10")
    assert store.claim_inbound("telegram_update", "1:10") == "done"
    assert store.claim_message("telegram_update", "1:10", lease=timedelta(0)) is False


def test_an_expired_unfinished_claim_is_handled_on_redelivery(store: Any) -> None:
    """The holder was killed (-9) between claiming and handling: its lease runs out, the redelivery takes it."""
    assert store.claim_message("wechat", "msg-9", lease=SHORT) is True
    assert store.claim_message("wechat", "msg-9", lease=SHORT) is False
    time.sleep(SHORT.total_seconds() + 0.1)
    assert store.claim_message("wechat", "msg-9") is True
    assert store.claim_inbound("wechat", "msg-9") == "busy"  # the new holder's lease is fresh
    store.finish_message("wechat", "msg-9")
    time.sleep(SHORT.total_seconds() + 0.1)
    assert store.claim_message("wechat", "msg-9", lease=SHORT) is False


def test_a_released_claim_is_taken_at_once_and_keeps_its_progress(store: Any) -> None:
    assert store.claim_message("telegram_update", "1:11") is True
    assert store.message_progress("telegram_update", "1:11") == {}
    store.record_message_step("telegram_update", "1:11", "send:0", 4242)
    store.record_message_step("telegram_update", "1:11", "notice", {"id": 7})
    store.release_message("telegram_update", "1:11")
    assert store.claim_message("telegram_update", "1:11") is True
    assert store.message_progress("telegram_update", "1:11") == {"send:0": 4242, "notice": {"id": 7}}
    with pytest.raises(NotFound):
        store.record_message_step("telegram_update", "never-claimed", "send:0", 1)
    assert store.message_progress("telegram_update", "never-claimed") == {}


def test_only_one_redelivery_takes_an_expired_claim(store: Any, run_together: Any) -> None:
    assert store.claim_message("wechat", "burst", lease=SHORT) is True
    time.sleep(SHORT.total_seconds() + 0.1)
    results = run_together(4, lambda i: store.claim_message("wechat", "burst"))
    assert sorted(results) == [False, False, False, True]


def test_claims_made_before_the_lease_existed_count_as_finished(db_url: str) -> None:
    upgrade(db_url, "0003")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO inbound_messages (channel, external_id, received_at) "
                              "VALUES ('wechat', 'old-1', CURRENT_TIMESTAMP)"))
    finally:
        engine.dispose()
    store = Store.from_url(db_url)
    try:
        store.migrate()
        assert store.claim_inbound("wechat", "old-1") == "done"
    finally:
        store.close()
