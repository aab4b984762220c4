"""Binding a WeChat account safely, and callbacks that cannot be replayed (issue 9, items 3, 11, 16, 19), against
the fake WeChat on 127.0.0.1 with real signatures and safe-mode encryption, on SQLite and PostgreSQL."""

from __future__ import annotations

import hmac
import logging
import time
from datetime import timedelta

import pytest

from bots.wechat import OfficialAccountSettings
from bots.wechat import api as vendor
from bots.wechat.binding import SCOPE, Binder, BindRequest
from bots.wechat.channel import WeChatInput
from gridreach.dialogue import OnceOnly
from gridreach.errors import ConfigError
from gridreach.settings import Settings
from gridreach.store import Store
from gridreach.store.binding import AttemptLimit
from tests.bots._wechat import (
    APP_ID,
    SECRET,
    TOKEN,
    Account,
    Scripted,
    new_resident,
    open_account,
    openid,
)

NOT_VALID = "手机号或绑定码不对"


def second_process(db_url: str) -> Store:
    """Another process's Store: its own engine and connections on the same database."""
    return Store.from_url(db_url)


# ---- item 3: no binding as a neighbour --------------------------------------------------------------------------
def test_neighbour_with_a_phone_and_the_workers_code_binds_nobody_and_learns_nothing(
        plain: tuple[Account, Scripted]) -> None:
    account, _ = plain
    store = account.oa.bot.store
    resident_id, phone = new_resident(store)
    worker = store.grid_worker_for("T01")
    assert worker is not None
    neighbour = openid()
    answer = account.fake.text(neighbour, f"{phone} {store.worker_code(worker.id)}").text or ""
    resident = store.get_resident(resident_id)
    assert resident is not None and resident.name not in answer and "网格员编码不能用来绑定" in answer
    assert store.resident_by_identity("wechat", neighbour) is None


def test_wrong_used_expired_and_mismatched_codes_are_answered_alike(plain: tuple[Account, Scripted]) -> None:
    account, _ = plain
    store = account.oa.bot.store
    resident_id, phone = new_resident(store)
    _, other_phone = new_resident(store)
    used = store.issue_link_code(resident_id, "worker:1")
    assert account.fake.text(openid(), f"{phone} {used}").text.startswith("绑定成功")  # type: ignore[union-attr]
    expired = store.issue_link_code(resident_id, "worker:1", ttl=timedelta(seconds=-1))
    live = store.issue_link_code(resident_id, "worker:1")
    wrong = f"{(int(live) + 1) % 10**8:08d}"
    answers = {account.fake.text(openid(), message).text
               for message in (f"{phone} {wrong}", f"{phone} {used}", f"{phone} {expired}", f"{other_phone} {live}")}
    assert len(answers) == 1 and NOT_VALID in (answers.pop() or "")
    resident = store.get_resident(resident_id)
    assert resident is not None
    assert account.fake.text(openid(), f"{phone} {live}").text.startswith(  # type: ignore[union-attr]
        f"绑定成功：{resident.name}")  # the live code stayed unused by the mismatched try


def test_the_residents_own_binding_evicts_a_neighbours_account_audited(plain: tuple[Account, Scripted]) -> None:
    account, dialogue = plain
    store = account.oa.bot.store
    resident_id, phone = new_resident(store)
    neighbour, own = openid(), openid()
    store.link_identity(resident_id, "wechat", neighbour)  # however it got there (the old worker's-code path)
    code = store.issue_link_code(resident_id, "worker:1")
    assert account.fake.text(own, f"{phone} {code}").text.startswith("绑定成功")  # type: ignore[union-attr]
    assert store.resident_by_identity("wechat", neighbour) is None
    assert store.resident_by_identity("wechat", own).id == resident_id  # type: ignore[union-attr]
    evicted = [e for e in store.audit_entries("resident", resident_id) if e.action == "identity.evicted"]
    assert len(evicted) == 1 and evicted[0].detail == {"channel": "wechat", "via": "link_code", "accounts": 1}
    assert "请先绑定" in (account.fake.text(neighbour, "是").text or "")  # the neighbour answers nothing for them
    assert dialogue.calls == []


# ---- item 3 / 19: attempt limits in the database ----------------------------------------------------------------
def test_many_wrong_codes_lock_the_account_out_and_the_right_code_waits_for_the_window(
        plain: tuple[Account, Scripted]) -> None:
    account, _ = plain
    store = account.oa.bot.store
    account.oa.bot.binder = Binder(store, AttemptLimit(per_subject=5, overall=50, period=timedelta(seconds=2)))
    resident_id, phone = new_resident(store)
    code = store.issue_link_code(resident_id, "worker:1")
    who = openid()
    answers = [account.fake.text(who, f"{phone} {n:08d}").text or "" for n in range(8)]
    assert all(NOT_VALID in a for a in answers[:5]) and all("尝试次数过多" in a for a in answers[5:])
    assert "尝试次数过多" in (account.fake.text(who, f"{phone} {code}").text or "")
    assert store.resident_by_identity("wechat", who) is None
    assert store.attempts_left(SCOPE, who, account.oa.bot.binder.limit) == 0
    time.sleep(2.1)
    assert account.fake.text(who, f"{phone} {code}").text.startswith("绑定成功")  # type: ignore[union-attr]


def test_limits_are_shared_by_processes_and_a_success_resets_nothing(seeded: Store, db_url: str) -> None:
    limit = AttemptLimit(per_subject=3, overall=5, period=timedelta(minutes=10))
    first, other = Binder(seeded, limit), Binder(second_process(db_url), limit)
    try:
        resident_id, phone = new_resident(seeded)
        who = openid()
        assert first.bind(who, BindRequest(phone, "00000000", "link")).reason == "not_valid"
        assert other.bind(who, BindRequest(phone, "00000001", "link")).reason == "not_valid"
        own = seeded.issue_link_code(resident_id, "worker:1")
        assert first.bind(who, BindRequest(phone, own, "link")).ok  # a success...
        assert other.bind(who, BindRequest(phone, "00000002", "link")).reason == "not_valid"
        fresh = seeded.issue_link_code(resident_id, "worker:1")  # ...reset nothing: 3 failures, locked out
        assert first.bind(who, BindRequest(phone, fresh, "link")).reason == "too_many"
        # overall: other accounts' failures add up to the scope's limit, then everyone waits
        assert other.bind(openid(), BindRequest(phone, "00000003", "link")).reason == "not_valid"
        assert first.bind(openid(), BindRequest(phone, "00000004", "link")).reason == "not_valid"
        assert other.bind(openid(), BindRequest(phone, fresh, "link")).reason == "too_many"
        refused = [e for e in seeded.audit_entries() if e.action == "attempt_refused"]
        assert len(refused) == 2 and refused[0].detail == {"subject_limit": True}
        assert refused[1].detail == {"subject_limit": False}
    finally:
        other.store.close()


# ---- item 11: replayed nonces -----------------------------------------------------------------------------------
def test_a_replayed_plaintext_query_with_another_sender_and_text_is_refused(plain: tuple[Account, Scripted],
                                                                           seeded: Store, db_url: str) -> None:
    account, dialogue = plain
    store = account.oa.bot.store
    resident_id, _ = new_resident(store)
    victim, attacker = openid(), openid()
    store.link_identity(resident_id, "wechat", victim)
    query, body = account.fake.signed(account.fake.message_xml(victim, "text", "<Content>是</Content><MsgId>41</MsgId>"))
    assert account.fake.post(query, body).status_code == 200
    assert len(dialogue.calls) == 1
    assert account.fake.post(query, body).status_code == 200  # WeChat's own retry of the same callback: deduped
    forged = account.fake.message_xml(victim, "text", "<Content>否</Content><MsgId>42</MsgId>")
    assert account.fake.post(query, forged.encode()).status_code == 403
    other = account.fake.message_xml(attacker, "text", "<Content>你好</Content><MsgId>43</MsgId>")
    assert account.fake.post(query, other.encode()).status_code == 403
    assert len(dialogue.calls) == 1
    # another process serving the same account refuses it too: the nonce is in the database
    again = open_account(second_process(db_url), OnceOnly(dialogue, seeded))
    try:
        assert again.fake.post(query, forged.encode()).status_code == 403
        fresh_query, fresh_body = again.fake.signed(forged)
        assert again.fake.post(fresh_query, fresh_body).status_code == 200  # a new nonce is fine
    finally:
        again.close()
        again.oa.bot.store.close()


def test_safe_mode_exact_replay_is_deduped_not_answered_twice(safe: tuple[Account, Scripted]) -> None:
    account, dialogue = safe
    store = account.oa.bot.store
    resident_id, _ = new_resident(store)
    who = openid()
    store.link_identity(resident_id, "wechat", who)
    query, body = account.fake.signed(account.fake.message_xml(who, "text", "<Content>是</Content><MsgId>51</MsgId>"))
    first = account.fake.post(query, body)
    second = account.fake.post(query, body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert len(dialogue.calls) == 1


# ---- item 16: constant-time comparison before wechatpy ----------------------------------------------------------
@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_signatures_are_compared_in_constant_time_before_wechatpy(seeded: Store, aes_key: str, mode: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    dialogue = Scripted()
    account = open_account(seeded, OnceOnly(dialogue, seeded), aes_key=aes_key if mode == "safe" else None)
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return original(a, b)

    def vendor_check(*_: object, **__: object) -> None:
        raise AssertionError("a forged signature reached wechatpy")

    monkeypatch.setattr(vendor.hmac, "compare_digest", spy)
    monkeypatch.setattr(vendor.WeChatCrypto, "decrypt_message", vendor_check)
    try:
        query, body = account.fake.signed(account.fake.message_xml(openid(), "text", "<Content>1</Content>"
                                                                   "<MsgId>61</MsgId>"))
        key = "msg_signature" if mode == "safe" else "signature"
        assert account.fake.post(dict(query, **{key: "0" * 40}), body).status_code == 403
        assert compared and compared[-1][1] == b"0" * 40
        assert dialogue.calls == []
    finally:
        account.close()


# ---- item 11: plaintext mode --------------------------------------------------------------------------------------
def test_plaintext_mode_is_refused_in_production_and_warned_about_elsewhere(
        seeded: Store, aes_key: str, caplog: pytest.LogCaptureFixture) -> None:
    plaintext = OfficialAccountSettings(app_id=APP_ID, token=TOKEN, app_secret=SECRET)
    with pytest.raises(ConfigError) as refused:
        WeChatInput(plaintext, seeded, production=True)
    assert refused.value.key == "encoding_aes_key" and "GRIDREACH_ENV=production" in str(refused.value)
    with caplog.at_level(logging.WARNING, logger="bots.wechat.channel"):
        WeChatInput(plaintext, seeded)
    assert any("plaintext mode" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bots.wechat.channel"):
        WeChatInput(OfficialAccountSettings(app_id=APP_ID, token=TOKEN, app_secret=SECRET, encoding_aes_key=aes_key),
                    seeded, production=True)
    assert not caplog.records


def test_gridreach_env_setting() -> None:
    assert Settings.from_env({"GRIDREACH_ENV": "production"}).production
    assert not Settings.from_env({}).production
    with pytest.raises(ConfigError) as bad:
        Settings.from_env({"GRIDREACH_ENV": "prod"})
    assert bad.value.key == "GRIDREACH_ENV"


def test_concurrent_tries_never_pass_more_than_the_limit(seeded: Store, db_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    limit = AttemptLimit(per_subject=5, overall=8, period=timedelta(minutes=10))
    stores = [seeded, second_process(db_url)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            same_user = list(pool.map(lambda n: stores[n % 2].reserve_attempt("bind:test", "u1", limit), range(20)))
        assert sum(r is not None for r in same_user) <= 5  # racing tries may all refuse: never more pass
        with ThreadPoolExecutor(max_workers=8) as pool:
            many = list(pool.map(lambda n: stores[n % 2].reserve_attempt("bind:test", f"u{n + 2}", limit), range(20)))
        assert sum(r is not None for r in same_user + many) <= 8
        assert seeded.attempts_left("bind:test", "someone", limit) == 8 - sum(r is not None for r in same_user + many)
    finally:
        stores[1].close()


# ---- one text catalogue: a Korean resident is answered in Korean, one not yet bound in Chinese and English ------
def test_a_korean_resident_binds_and_is_answered_in_korean(plain: tuple[Account, Scripted]) -> None:
    account, _ = plain
    store = account.oa.bot.store
    resident_id, phone = new_resident(store, "ko")
    own = openid()
    code = store.issue_link_code(resident_id, "worker:1")
    assert (account.fake.text(own, f"{phone} {code}").text or "").startswith("연결되었습니다")
    too_long = account.fake.text(own, "가" * (account.oa.bot.settings.max_text_chars + 1)).text or ""
    assert too_long.startswith("메시지가 너무 깁니다") and "消息" not in too_long


def test_someone_not_bound_yet_is_answered_in_chinese_then_english(plain: tuple[Account, Scripted]) -> None:
    account, _ = plain
    answer = account.fake.text(openid(), "안녕하세요").text or ""
    assert answer.startswith("请先绑定") and "\nPlease link your account first" in answer
