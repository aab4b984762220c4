"""Telegram binding that cannot be guessed or hijacked (issue 9, items 4 and 19): one-time codes only with the
phone, tries limited per user and overall in the database (the same limiter as WeChat), wrong / used / expired
answered alike, the resident's own binding evicting other accounts, and the campaign opened before binding kept
across a restart. Real Bot API calls to the loopback fake, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta

from bots.telegram.bot import TelegramBot
from gridreach.store import Store
from gridreach.store.binding import AttemptLimit
from tests.bots._telegram import ScriptedDialogue
from tests.bots.conftest import PHONE, TelegramRig, seed_grid, telegram_rig

DIGITS = "13912345678"
SCOPE = "bind:telegram"


def last_text(rig: TelegramRig, chat: int) -> str:
    return str(rig.fake.messages(chat)[-1]["text"])


def resident_id(store: Store) -> int:
    found = store.find_resident_by_phone(PHONE)
    assert found is not None
    return found.id


def test_wrong_codes_lock_the_user_out_the_right_code_waits_and_the_count_is_in_the_database(
        rig: TelegramRig, db_url: str) -> None:
    bot: TelegramBot = rig.bot
    bot.bind_limit = AttemptLimit(per_subject=5, overall=100, period=timedelta(seconds=3))
    code = rig.store.issue_link_code(resident_id(rig.store), "worker:1")
    user = rig.fake.user(41, "Guesser", "en")
    answers = []
    for n in range(12):
        wrong = f"{n:08d}" if f"{n:08d}" != code else "99999999"
        rig.fake.private_text(user, f"{DIGITS} {wrong}")
        answers.append(last_text(rig, 41))
    assert all("not right" in a for a in answers[:5]) and all("Too many tries" in a for a in answers[5:])
    rig.fake.private_text(user, f"{DIGITS} {code}")
    assert "Too many tries" in last_text(rig, 41) and rig.store.resident_by_identity("telegram", "41") is None
    # another process (its own Store, its own engine) sees the same count and refuses too
    other = Store.from_url(db_url)
    try:
        assert other.attempts_left(SCOPE, "41", bot.bind_limit) == 0
        assert other.redeem_code_limited(code, "telegram", "41", PHONE, bot.bind_limit).reason == "too_many"
    finally:
        other.close()
    time.sleep(3.1)  # the window passes: the right code binds, once
    rig.fake.private_text(user, f"{DIGITS} {code}")
    assert rig.store.resident_by_identity("telegram", "41").name == "张三"  # type: ignore[union-attr]


def test_the_overall_limit_stops_guessing_spread_over_many_users(rig: TelegramRig) -> None:
    rig.bot.bind_limit = AttemptLimit(per_subject=3, overall=6, period=timedelta(minutes=5))
    code = rig.store.issue_link_code(resident_id(rig.store), "worker:1")
    for n in range(6):
        rig.fake.private_text(rig.fake.user(50 + n, f"U{n}", "en"), f"{DIGITS} {n + 1:08d}")
        assert "not right" in last_text(rig, 50 + n)
    rig.fake.private_text(rig.fake.user(60, "Late", "en"), f"{DIGITS} {code}")
    assert "Too many tries" in last_text(rig, 60) and rig.store.resident_by_identity("telegram", "60") is None


def test_wrong_used_expired_and_another_phones_codes_get_one_answer(rig: TelegramRig) -> None:
    store = rig.store
    rid = resident_id(store)
    other_phone = "+8613912340000"
    store.add_resident("T01", "幸福路2号", "李四", other_phone, 1971, "zh")
    used = store.issue_link_code(rid, "worker:1")
    rig.fake.private_text(rig.fake.user(70, "Own"), f"{DIGITS} {used}")
    assert store.resident_by_identity("telegram", "70") is not None
    expired = store.issue_link_code(rid, "worker:1", ttl=timedelta(seconds=-1))
    live = store.issue_link_code(rid, "worker:1")
    wrong = "00000000" if live != "00000000" else "11111111"
    tries = [f"{DIGITS} {wrong}", f"{DIGITS} {used}", f"{DIGITS} {expired}", f"13912340000 {live}"]
    answers = set()
    for n, message in enumerate(tries):
        rig.fake.private_text(rig.fake.user(71 + n, "Try"), message)
        answers.add(last_text(rig, 71 + n))
    assert len(answers) == 1 and "张三" not in answers.pop()
    assert all(store.resident_by_identity("telegram", str(71 + n)) is None for n in range(4))


def test_the_residents_own_binding_evicts_a_neighbours_account(rig: TelegramRig) -> None:
    store = rig.store
    rid = resident_id(store)
    store.link_identity(rid, "telegram", "80")  # a neighbour's account, however it got there
    rig.fake.share_contact(rig.fake.user(81, "Zhang"), PHONE)  # the resident's own verified number
    assert store.resident_by_identity("telegram", "80") is None
    assert store.resident_by_identity("telegram", "81").id == rid  # type: ignore[union-attr]
    code = store.issue_link_code(rid, "worker:1")  # a new phone: their own code moves them again
    rig.fake.private_text(rig.fake.user(82, "Zhang"), f"{DIGITS} {code}")
    assert store.resident_by_identity("telegram", "81") is None
    assert store.resident_by_identity("telegram", "82").id == rid  # type: ignore[union-attr]
    evicted = [e.detail for e in store.audit_entries("resident", rid) if e.action == "identity.evicted"]
    assert evicted == [{"channel": "telegram", "via": "telegram_contact", "accounts": 1},
                       {"channel": "telegram", "via": "link_code", "accounts": 1}]


def test_a_campaign_opened_before_binding_survives_a_restart(store: Store) -> None:
    from campaigns import QUESTIONNAIRE_DIR
    from campaigns.registry import load_and_register

    seed_grid(store)
    rid = store.add_resident("T01", "幸福路1号", "张三", PHONE, 1970, "zh")
    q = load_and_register(store, QUESTIONNAIRE_DIR)["daily_health"]
    campaign_id = store.create_campaign("screening", "T01", q.id, q.version, "test")
    token = store.campaign_token(campaign_id)
    with telegram_rig(store, ScriptedDialogue()) as first:
        first.fake.private_text(first.fake.user(90, "Zhang"), f"/start {token}")
        assert first.bot.dialogue.calls == []
    assert store.pending_campaign("telegram", "90") == campaign_id  # in the database, not in the process
    code = store.issue_link_code(rid, "worker:1")
    with telegram_rig(store, ScriptedDialogue()) as restarted:  # a new process: nothing in memory
        restarted.fake.private_text(restarted.fake.user(90, "Zhang"), f"{DIGITS} {code}")
        calls = restarted.bot.dialogue.calls
        assert len(calls) == 1 and calls[0][1].startswith("/start_questionnaire")
        assert f"\"campaign\": \"{campaign_id}\"" in calls[0][1]
    assert store.pending_campaign("telegram", "90") is None


def test_pending_campaigns_are_bounded(store: Store) -> None:
    from campaigns import QUESTIONNAIRE_DIR
    from campaigns.registry import load_and_register

    seed_grid(store)
    q = load_and_register(store, QUESTIONNAIRE_DIR)["daily_health"]
    campaign_id = store.create_campaign("screening", "T01", q.id, q.version, "test")
    store.set_pending_campaign("telegram", "1", campaign_id)
    assert store.pending_campaign("telegram", "1", max_age=timedelta(0)) is None  # too old: not started
    store.clear_pending_campaign("telegram", "2", older_than=timedelta(0))  # someone binds: old ones go
    assert store.pending_campaign("telegram", "1") is None


def test_a_korean_speaker_is_asked_and_answered_in_korean(rig: TelegramRig) -> None:
    """Not known yet: the Telegram client's language (``ko-KR``); bound: the resident's own language."""
    store = rig.store
    rid = store.add_resident("T01", "幸福路3号", "김민지", "+8613912340001", 1985, "ko")
    user = rig.fake.user(90, "Minji", "ko-KR")
    rig.fake.private_text(user, "/start")
    assert "01012345678 12345678" in last_text(rig, 90)  # telegram.ask_bind in Korean
    code = store.issue_link_code(rid, "worker:1")
    rig.fake.private_text(user, f"13912340001 {code}")
    assert last_text(rig, 90) == "감사합니다. 幸福社区 주민 김민지님으로 확인되었습니다."
    assert store.resident_by_identity("telegram", "90").id == rid  # type: ignore[union-attr]
