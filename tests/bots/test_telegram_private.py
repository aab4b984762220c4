"""Telegram private chats: binding, deep links, buttons, and every unexpected input, with a scripted dialogue
(the questionnaire itself runs through the real Rasa core in test_telegram_screening.py)."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.bots.conftest import PHONE, TelegramRig


def campaign_token(rig: TelegramRig) -> str:
    from campaigns import QUESTIONNAIRE_DIR
    from campaigns.registry import load_and_register

    q = load_and_register(rig.store, QUESTIONNAIRE_DIR)["daily_health"]
    campaign_id = rig.store.create_campaign("screening", "T01", q.id, q.version, "test")
    return str(rig.store.campaign_token(campaign_id))


def last(rig: TelegramRig, chat: int) -> dict[str, Any]:
    return rig.fake.messages(chat)[-1]


def test_deep_link_binding_by_own_contact_then_buttons_and_typing(rig: TelegramRig) -> None:
    fake, dialogue = rig.fake, rig.bot.dialogue
    user = fake.user(31, "Zhang")
    fake.private_text(user, f"/start {campaign_token(rig)}")
    keyboard = last(rig, 31)["sent_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True and dialogue.calls == []

    fake.share_contact(user, PHONE, owner_id=99)  # somebody else's contact card
    assert rig.store.resident_by_identity("telegram", "31") is None
    fake.share_contact(user, PHONE)
    assert rig.store.resident_by_identity("telegram", "31").name == "张三"
    sender, start, meta = dialogue.calls[0]
    assert sender == "telegram:31" and start.startswith("/start_questionnaire") and meta["channel"] == "telegram"
    question = last(rig, 31)
    assert question["text"] == "您有没有咳嗽？"
    buttons = question["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["有", "没有"]

    fake.press(user, question, buttons[1]["callback_data"])
    assert dialogue.calls[-1][1] == "2" and dialogue.calls[-1][2]["keypad"] is True
    assert dialogue.answers["telegram:31"] == {"cough": "no"}
    pressed = next(m for m in fake.messages(31) if m["message_id"] == question["message_id"])
    assert "reply_markup" not in pressed and pressed["text"].endswith("✓ 没有")
    calls = len(dialogue.calls)
    fake.press(user, question, buttons[0]["callback_data"])  # the same, stale button again
    assert len(dialogue.calls) == calls and "失效" in fake.callback_answers[-1]["text"]

    fake.private_text(user, "36.6")
    assert dialogue.answers["telegram:31"] == {"cough": "no", "temperature": "36.6"}
    assert "+8613800138000" in last(rig, 31)["text"]  # the hand-over names the grid worker's phone


def test_one_time_code_binds_and_bad_codes_say_why(rig: TelegramRig) -> None:
    fake, store = rig.fake, rig.store
    worker = fake.user(11, "Wang")
    fake.share_contact(worker, "+8613800138000")
    fake.private_text(worker, "/code 13912345678")
    code = re.search(r"\b(\d{8})\b", last(rig, 11)["text"].replace("：", " ")).group(1)
    fake.private_text(worker, "/code 13800000000")
    assert "没有" in last(rig, 11)["text"]

    resident = fake.user(32, "Zhang", "en")
    fake.private_text(resident, "hello")
    assert "8-digit code" in last(rig, 32)["text"]
    fake.private_text(resident, code)  # a code alone binds nothing: the phone must come with it
    assert "together with the code" in last(rig, 32)["text"] and store.resident_by_identity("telegram", "32") is None
    fake.private_text(resident, "13912345678 " + ("12345678" if code != "12345678" else "87654321"))
    assert "not right" in last(rig, 32)["text"]
    fake.private_text(resident, f"139 1234 5678 {code}")
    assert store.resident_by_identity("telegram", "32").name == "张三"
    other = fake.user(33, "Li")
    fake.private_text(other, f"{code} 13912345678")  # used: answered as any wrong code
    assert "手机号或验证码不对" in last(rig, 33)["text"] and store.resident_by_identity("telegram", "33") is None


def test_the_unexpected_gets_a_defined_answer_and_no_turn(rig: TelegramRig) -> None:
    fake, store, dialogue = rig.fake, rig.store, rig.bot.dialogue
    user = fake.user(34, "Zhang")
    fake.share_contact(user, PHONE)
    fake.sticker(user)
    assert last(rig, 34)["text"] == "请用文字或者按钮回答。"
    fake.photo(user)
    assert last(rig, 34)["text"] == "请用文字或者按钮回答。"
    fake.private_text(user, "发" * 501)
    assert "500" in last(rig, 34)["text"]
    fake.private_text(user, "有")
    first = fake.messages(34)[-1]
    fake.edit(user, first["message_id"] - 1, "没有")
    assert "修改" in last(rig, 34)["text"]
    assert [c[1] for c in dialogue.calls] == ["有"]  # no sticker, photo, long text or edit reached the dialogue

    resident_id = store.resident_by_identity("telegram", "34").id
    fake.block_bot(user)
    assert store.has_opted_out(resident_id, "telegram") and not store.has_opted_out(resident_id, "voice")


def test_redelivered_updates_are_answered_once(rig: TelegramRig) -> None:
    fake, dialogue = rig.fake, rig.bot.dialogue
    user = fake.user(35, "Zhang")
    fake.private_text(user, f"/start {campaign_token(rig)}")
    fake.share_contact(user, PHONE)
    update_id = max(fake.updates)
    fake.private_text(user, "有")
    answered = max(fake.updates)
    before, calls = len(fake.messages(35)), len(dialogue.calls)
    assert fake.redeliver(answered) == 200
    assert fake.redeliver(update_id) == 200
    assert len(fake.messages(35)) == before and len(dialogue.calls) == calls
    assert dialogue.answers["telegram:35"] == {"cough": "yes"}


def test_forged_or_malformed_webhook_calls_change_nothing(rig: TelegramRig) -> None:
    fake, store, dialogue = rig.fake, rig.store, rig.bot.dialogue
    user = fake.user(36, "Zhang")
    fake.open_private(user)
    update = {"update_id": 777, "message": {"message_id": 1, "date": 0, "text": "/start",
                                            "chat": {"id": 36, "type": "private", "first_name": "Z"},
                                            "from": user}}
    assert fake.post_to_webhook(update, secret="wrong") == 403
    assert fake.post_to_webhook(update, secret=None) == 403
    assert fake.post_to_webhook(b"{not json", secret="test-secret_1") == 400
    broken = json.loads(json.dumps(update))
    del broken["message"]["chat"]
    assert fake.post_to_webhook(broken) == 400
    broken = json.loads(json.dumps(update))
    broken["message"]["chat"]["id"] = "thirty-six"
    assert fake.post_to_webhook(broken) == 400
    assert fake.post_to_webhook([1, 2]) == 400  # type: ignore[arg-type]
    assert fake.messages(36) == [] and dialogue.calls == []
    assert fake.post_to_webhook(update) == 200  # the same update, now genuine, is handled: nothing was claimed
    assert "8位验证码" in fake.texts(36)[-1]
    assert store.claim_message("telegram_update", f"{fake.bot_id}:777") is False


def test_a_typed_intent_is_text_to_the_dialogue(rig: TelegramRig) -> None:
    fake, dialogue = rig.fake, rig.bot.dialogue
    user = fake.user(36, "Zhang")
    fake.private_text(user, f"/start {campaign_token(rig)}")
    fake.share_contact(user, PHONE)  # the deep link's own trigger reaches the dialogue as an intent
    assert dialogue.calls[-1][1].startswith("/start_questionnaire")
    forged = '/start_questionnaire{"questionnaire": "traveller"}'
    calls = len(dialogue.calls)
    fake.private_text(user, forged)  # a slash first is a command: unknown ones are answered, never a turn
    assert len(dialogue.calls) == calls
    fake.private_text(user, "  " + forged)  # Rasa strips spaces before reading "/intent{...}"
    assert dialogue.calls[-1][1] == "\u200b  " + forged
