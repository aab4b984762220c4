"""The Official Account webhook against a fake WeChat on 127.0.0.1: signatures, safe mode, replays, the 5 s rule,
customer-service messages, binding and receipts. The dialogue here is scripted; tests/bots/test_wechat_rasa.py
drives the real Rasa core."""

from __future__ import annotations

import httpx
import pytest

from gridreach.dialogue import OnceOnly
from gridreach.store import Store
from gridreach_fakes.wechat import sha1_signature
from tests.bots._wechat import (
    Account,
    Scripted,
    new_resident,
    open_account,
    openid,
    wait_for,
)


def bound(store: Store) -> str:
    resident_id, _ = new_resident(store)
    who = openid()
    store.link_identity(resident_id, "wechat", who)
    return who


def state(store: Store) -> tuple[int, int]:
    return len(store.audit_entries()), len(store.list_outbound())


def test_url_verification_echoes_only_when_signed(plain: tuple[Account, Scripted]) -> None:
    account, _ = plain
    query, _ = account.fake.signed(account.fake.message_xml("o1", "text", ""))
    good = httpx.get(account.fake.webhook_url, params=dict(query, echostr="echo-123"))
    forged = httpx.get(account.fake.webhook_url, params=dict(query, signature="0" * 40, echostr="echo-123"))
    assert (good.status_code, good.text) == (200, "echo-123")
    assert forged.status_code == 403


def test_plaintext_message_is_answered_with_numbered_options(plain: tuple[Account, Scripted]) -> None:
    account, dialogue = plain
    who = bound(account.oa.bot.store)
    delivery = account.fake.text(who, "你好")
    assert delivery.status == 200 and delivery.attempts == 1
    assert delivery.text == "您最近有没有咳嗽？\n1 是 / 2 否 （回复数字即可）"
    assert dialogue.calls == [(f"wechat:{who}", "你好", {"message_id": delivery.msg_id})]
    account.fake.text(who, "2")  # the number answers the options, as keypad input
    assert dialogue.calls[-1][1:] == ("2", {"message_id": dialogue.calls[-1][2]["message_id"], "keypad": True})


def test_a_typed_intent_is_text_and_the_menu_trigger_an_intent(plain: tuple[Account, Scripted]) -> None:
    account, dialogue = plain
    who = bound(account.oa.bot.store)
    forged = '/start_questionnaire{"questionnaire": "traveller"}'
    account.fake.text(who, forged)
    assert dialogue.calls[-1][1] == "\u200b" + forged  # Rasa's RegexMessageHandler does not read it as an intent
    account.fake.event(who, "CLICK", "SCREEN:daily_health")  # the menu's own payload stays the trigger
    assert dialogue.calls[-1][1] == '/start_questionnaire{"questionnaire": "daily_health"}'


def test_safe_mode_reply_is_encrypted_and_signed(safe: tuple[Account, Scripted]) -> None:
    account, dialogue = safe
    who = bound(account.oa.bot.store)
    delivery = account.fake.text(who, "你好")
    assert "<Encrypt>" in delivery.body and "您最近" not in delivery.body  # the fake decrypted and verified it
    assert delivery.text is not None and delivery.text.startswith("您最近有没有咳嗽？")
    assert len(dialogue.calls) == 1


def test_plaintext_callback_refused_in_safe_mode(safe: tuple[Account, Scripted]) -> None:
    account, dialogue = safe
    who = bound(account.oa.bot.store)
    xml = account.fake.message_xml(who, "text", "<Content>hi</Content><MsgId>77</MsgId>")
    query, _ = account.fake.signed(xml)
    plain_query = {k: query[k] for k in ("signature", "timestamp", "nonce", "openid")}
    before = state(account.oa.bot.store)
    assert account.fake.post(plain_query, xml.encode()).status_code == 403
    assert dialogue.calls == [] and state(account.oa.bot.store) == before


@pytest.mark.parametrize("forgery", ["msg_signature", "ciphertext", "timestamp"])
def test_forged_safe_mode_callbacks_are_refused(safe: tuple[Account, Scripted], forgery: str) -> None:
    account, dialogue = safe
    store = account.oa.bot.store
    who = bound(store)
    query, body = account.fake.signed(account.fake.message_xml(who, "text", "<Content>是</Content><MsgId>9</MsgId>"))
    if forgery == "msg_signature":
        query["msg_signature"] = sha1_signature("wrong-token", query["timestamp"], query["nonce"], "x")
    elif forgery == "ciphertext":
        start = body.index(b"<Encrypt><![CDATA[") + 18
        flipped = b"A" if body[start + 5 : start + 6] != b"A" else b"B"
        body = body[: start + 5] + flipped + body[start + 6 :]
    else:
        query["timestamp"] = str(int(query["timestamp"]) - 3600)  # an old callback, replayed
    before = state(store)
    assert account.fake.post(query, body).status_code == 403
    assert dialogue.calls == [] and state(store) == before


def test_forged_plaintext_signature_is_refused(plain: tuple[Account, Scripted]) -> None:
    account, dialogue = plain
    who = bound(account.oa.bot.store)
    query, body = account.fake.signed(account.fake.message_xml(who, "text", "<Content>1</Content><MsgId>5</MsgId>"))
    before = state(account.oa.bot.store)
    assert account.fake.post(dict(query, signature="f" * 40), body).status_code == 403
    assert dialogue.calls == [] and state(account.oa.bot.store) == before


@pytest.mark.parametrize("body", [b"<xml><ToUserName>x</ToUserName", b"not xml at all", b"<xml><MsgType>text</MsgType></xml>",
                                  "<xml>\udcff</xml>".encode("utf-8", "surrogatepass")])
def test_malformed_xml_is_400_and_changes_nothing(plain: tuple[Account, Scripted], body: bytes) -> None:
    account, dialogue = plain
    query, _ = account.fake.signed(account.fake.message_xml("o1", "text", ""))
    before = state(account.oa.bot.store)
    assert account.fake.post(query, body).status_code == 400
    assert dialogue.calls == [] and state(account.oa.bot.store) == before


def test_same_msgid_three_times_is_one_turn(plain: tuple[Account, Scripted]) -> None:
    account, dialogue = plain
    who = bound(account.oa.bot.store)
    first = account.fake.text(who, "是", msg_id="6100000000000000001")
    again = [account.fake.text(who, "是", msg_id="6100000000000000001") for _ in range(2)]
    assert first.text is not None and all(d.empty for d in again)
    assert len(dialogue.calls) == 1


def test_wechat_retry_while_the_turn_runs_gets_its_reply(seeded: Store) -> None:
    dialogue = Scripted(delay=2.5)
    account = open_account(seeded, OnceOnly(dialogue, seeded), reply_timeout=1.0)
    try:
        who = bound(seeded)
        delivery = account.fake.text(who, "你好")
        assert delivery.attempts == 3 and delivery.text is not None  # the third try got the turn's reply
        assert len(dialogue.calls) == 1 and account.fake.sent_to(who) == []
    finally:
        account.close()


def test_slow_dialogue_answers_empty_then_by_customer_service(seeded: Store) -> None:
    dialogue = Scripted(delay=1.0)
    account = open_account(seeded, OnceOnly(dialogue, seeded), reply_deadline=0.3)
    try:
        who = bound(seeded)
        delivery = account.fake.text(who, "你好")
        assert delivery.empty and delivery.attempts == 1
        sent = wait_for(lambda: account.fake.sent_to(who))
        assert sent == ["您最近有没有咳嗽？\n1 是 / 2 否 （回复数字即可）"]
        (row,) = wait_for(lambda: seeded.list_outbound("wechat", "sent"))
        assert (row.kind, row.target) == ("service", who) and len(seeded.list_outbound("wechat")) == 1
    finally:
        account.close()


def test_customer_service_outside_the_window_is_dropped_with_an_audit_entry(seeded: Store) -> None:
    dialogue = Scripted(delay=0.8)
    account = open_account(seeded, OnceOnly(dialogue, seeded), reply_deadline=0.2)
    try:
        who = bound(seeded)
        account.fake.offset = 0.0
        delivery = account.fake.text(who, "你好")
        account.fake.offset = 49 * 3600  # WeChat's clock: the 48 h window closed before our late reply
        assert delivery.empty
        failed = wait_for(lambda: seeded.list_outbound("wechat", "failed"))
        assert "45015" in (failed[0].error or "") and account.fake.sent_to(who) == []
        assert wait_for(lambda: [e for e in seeded.audit_entries("wechat_user", who)
                                 if e.action == "wechat.service_message_dropped"])
    finally:
        account.close()


def test_over_our_message_limit_nothing_is_sent(seeded: Store) -> None:
    dialogue = Scripted(delay=0.8)
    account = open_account(seeded, OnceOnly(dialogue, seeded), reply_deadline=0.2, service_limit=0)
    try:
        who = bound(seeded)
        assert account.fake.text(who, "你好").empty
        failed = wait_for(lambda: seeded.list_outbound("wechat", "failed"))
        assert "limit" in (failed[0].error or "") and account.fake.sent == []
        assert wait_for(lambda: [e for e in seeded.audit_entries("wechat_user", who)
                                 if e.action == "wechat.service_message_dropped"])
    finally:
        account.close()


def test_non_text_and_too_long_messages_get_a_defined_answer(plain: tuple[Account, Scripted]) -> None:
    account, dialogue = plain
    who = bound(account.oa.bot.store)
    assert account.fake.image(who).text == "请用文字回复。"
    too_long = account.fake.text(who, "咳" * 601)
    assert too_long.text is not None and "太长" in too_long.text
    assert dialogue.calls == []


def test_follow_unbound_bind_with_codes(plain: tuple[Account, Scripted]) -> None:
    account, dialogue = plain
    store = account.oa.bot.store
    who = openid()
    welcome = account.fake.event(who, "subscribe")
    assert welcome.text is not None and "一次性绑定码" in welcome.text and "one-time code" in welcome.text
    assert "请先绑定" in (account.fake.text(who, "你好").text or "")
    resident_id, phone = new_resident(store)
    _, other_phone = new_resident(store)
    code = store.issue_link_code(resident_id, "王网格")
    refused = account.fake.text(who, f"{other_phone} {code}").text or ""  # another's code
    assert "绑定码不对" in refused and "居民" not in refused
    assert store.resident_by_identity("wechat", who) is None
    reply = account.fake.text(who, f"我的手机 {phone}，绑定码 {code}")
    assert reply.text is not None and reply.text.startswith("绑定成功")
    assert store.resident_by_identity("wechat", who).id == resident_id  # type: ignore[union-attr]
    worker = store.grid_worker_for("T01")
    assert worker is not None
    # the grid worker's shared code binds nobody: it would bind anyone knowing a neighbour's phone as that neighbour
    second = openid()
    answer = account.fake.text(second, f"{other_phone} {store.worker_code(worker.id).lower()}").text or ""
    assert "网格员编码不能用来绑定" in answer and "居民" not in answer
    assert store.resident_by_identity("wechat", second) is None
    assert store.resident_by_identity("wechat", who).id == resident_id  # type: ignore[union-attr]
    assert dialogue.calls == []


def test_menu_click_starts_a_questionnaire_for_bound_residents_only(plain: tuple[Account, Scripted]) -> None:
    account, dialogue = plain
    store = account.oa.bot.store
    stranger = account.fake.event(openid(), "CLICK", "SCREEN:daily_health")
    assert "请先绑定" in (stranger.text or "") and dialogue.calls == []
    who = bound(store)
    account.fake.event(who, "CLICK", "SCREEN:daily_health")
    assert dialogue.calls[-1][1] == '/start_questionnaire{"questionnaire": "daily_health"}'


def test_receipts_and_unsubscribe(plain: tuple[Account, Scripted]) -> None:
    account, dialogue = plain
    store = account.oa.bot.store
    resident_id, _ = new_resident(store)
    other_id, _ = new_resident(store)
    who, other = openid(), openid()
    store.link_identity(resident_id, "wechat", who)
    store.link_identity(other_id, "wechat", other)
    notice = store.create_notice("T01", "停水通知", "明天停水", "王网格")
    assert account.fake.text(who, "收到！").text == "已收到您的确认，谢谢！"
    account.fake.text(other, "找网格员")
    assert dialogue.calls[-1][1] == "找网格员"  # the dialogue hands over
    statuses = {r.resident_id: r.status for r in store.notice_receipts(notice)}
    assert statuses == {resident_id: "acknowledged", other_id: "asked_human"}
    assert account.fake.event(who, "unsubscribe").empty
    assert store.has_opted_out(resident_id, "wechat")
