"""Whole conversations over the Official Account webhook through the real Rasa core into the database: a resident
follows, binds with phone + code, taps the screening menu and answers daily_health (Chinese, safe mode; English,
plaintext, through ``WeChatInput`` as Rasa loads it from credentials.yml)."""

from __future__ import annotations

from typing import Any

from bots.wechat import OfficialAccountSettings, WeChatInput
from gridreach.dialogue import OnceOnly
from gridreach_app.web import new_app, serve_app
from gridreach_fakes.wechat import FakeWeChat
from tests.bots._wechat import APP_ID, SECRET, TOKEN, new_resident, open_account, openid
from tests.dialogs.conftest import Stack


def test_follow_bind_and_screen_in_chinese_over_safe_mode(wechat_stack: Stack, aes_key: str) -> None:
    stack = wechat_stack
    account = open_account(stack.store, OnceOnly(stack.dialogue, stack.store), loop=stack.loop, aes_key=aes_key)
    try:
        resident_id, phone = new_resident(stack.store, "zh")
        code = stack.store.issue_link_code(resident_id, "王网格")
        who = openid()
        assert "绑定码" in (account.fake.event(who, "subscribe").text or "")
        assert (account.fake.text(who, f"{phone} {code}").text or "").startswith("绑定成功")
        first = account.fake.event(who, "CLICK", "SCREEN:daily_health")
        assert first.text is not None and "体温" in first.text
        cough = account.fake.text(who, "36度8")
        assert cough.text is not None and "1 有 / 2 没有" in cough.text
        account.fake.text(who, "2")  # the number of the option: no cough
        retried = account.fake.text(who, "有", msg_id="7000000000000000001")  # sore throat: yes
        assert retried.text is not None
        assert account.fake.text(who, "有", msg_id="7000000000000000001").empty  # WeChat's retry: one turn
        for reply in ["没有", "没有", "没有", "没有"]:
            last = account.fake.text(who, reply)
        assert last.text is not None and "<Encrypt>" in last.body
        sub = stack.store.latest_submission(resident_id, "daily_health")
        assert sub is not None and sub.status == "complete" and sub.channel == "wechat"
        assert {k: a.value for k, a in sub.answers.items()} == {
            "temperature": 36.8, "cough": "no", "sore_throat": "yes", "breathing": "no", "taste_smell": "no",
            "contact": "no", "travel": "no"}
    finally:
        account.close()


def test_english_resident_through_the_rasa_input_channel(wechat_stack: Stack) -> None:
    stack = wechat_stack
    fake = FakeWeChat(TOKEN, APP_ID, SECRET)
    channel = WeChatInput(OfficialAccountSettings(app_id=APP_ID, token=TOKEN, app_secret=SECRET,
                                                  api_base_url=fake.api_url), stack.store)
    agent: Any = stack.dialogue._agent
    served = serve_app(new_app(channel.blueprint(agent.handle_message)), loop=stack.loop)
    fake.webhook_url = served.url + "/webhook"
    try:
        resident_id, phone = new_resident(stack.store, "en")
        who = openid()
        fake.event(who, "subscribe")
        bound = fake.text(who, f"{phone} {stack.store.issue_link_code(resident_id, 'worker:1')}")
        assert bound.text is not None and bound.text.startswith("Linked")
        assert "temperature" in (fake.event(who, "CLICK", "SCREEN:daily_health").text or "")
        for reply in ["37.5", "yes", "1", "no", "no", "not sure", "yes"]:
            fake.text(who, reply)
        place = fake.text(who, "Shanghai")
        assert place.text is not None
        sub = stack.store.latest_submission(resident_id, "daily_health")
        assert sub is not None and sub.status == "complete"
        assert {k: a.value for k, a in sub.answers.items()} == {
            "temperature": 37.5, "cough": "yes", "sore_throat": "yes", "breathing": "no", "taste_smell": "no",
            "contact": "not_sure", "travel": "yes", "travel_place": "Shanghai"}
        assert channel.get_output_channel() is not None
    finally:
        served.stop()
        fake.close()
