"""A whole screening over Telegram through the real Rasa core: a grid worker posts it to a bound group, two
residents open it from the group's button, bind (one by their phone, one by a code from the grid worker) and answer
the daily health check at the same time, one in Chinese and one in English, with buttons and typed answers; each
resident's own answers are stored. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from gridreach_app.dialogue import OnceOnly
from tests.bots.conftest import TelegramRig, telegram_rig
from tests.dialogs.conftest import Stack

WORKER_PHONE = "+8613800138000"  # the stack's grid worker of T01


@pytest.fixture
def rig(bot_stack: Stack) -> Iterator[TelegramRig]:
    with telegram_rig(bot_stack.store, OnceOnly(bot_stack.dialogue, bot_stack.store), loop=bot_stack.loop) as r:
        yield r


def new_phone() -> str:
    return f"+86139{uuid.uuid4().int % 10**8:08d}"


def answer(rig: TelegramRig, user: dict[str, Any], how: str, what: str) -> None:
    """Type ``what``, or press the button labelled ``what`` under the question asked last."""
    chat = user["id"]
    if how == "type":
        assert rig.fake.private_text(user, what) == 200
        return
    asked = [m for m in rig.fake.messages(chat) if m.get("reply_markup")]
    assert asked, f"no buttons in {rig.fake.texts(chat)[-3:]}"
    question = asked[-1]
    [button] = [b for row in question["reply_markup"]["inline_keyboard"] for b in row if b["text"] == what]
    assert rig.fake.press(user, question, button["callback_data"]) == 200


ZH = [("type", "三十七度五"), ("button", "有"), ("type", "没有"), ("button", "没有"), ("type", "没有"),
      ("button", "不确定"), ("button", "有"), ("type", "武汉")]
ZH_STORED = {"temperature": 37.5, "cough": "yes", "sore_throat": "no", "breathing": "no", "taste_smell": "no",
             "contact": "not_sure", "travel": "yes", "travel_place": "武汉"}
EN = [("type", "36.6"), ("button", "no"), ("type", "yes"), ("button", "no"), ("type", "no"), ("button", "no"),
      ("type", "no")]
EN_STORED = {"temperature": 36.6, "cough": "no", "sore_throat": "yes", "breathing": "no", "taste_smell": "no",
             "contact": "no", "travel": "no"}


def test_two_residents_answer_a_group_screening_at_once(rig: TelegramRig, bot_stack: Stack) -> None:
    fake, store = rig.fake, rig.store
    zh_id = store.add_resident("T01", f"幸福路{uuid.uuid4().hex[:6]}号", "张三", (zh_phone := new_phone()), 1975, "zh")
    en_id = store.add_resident("T01", f"Lane {uuid.uuid4().hex[:6]}", "Tom", (en_phone := new_phone()), 1990, "en")
    worker = fake.user(1001, "Wang")
    fake.share_contact(worker, WORKER_PHONE)
    group = -1_000_000 - uuid.uuid4().int % 10**6
    fake.group(group, "幸福小区业主群")
    fake.group_text(group, worker, "/bind T01")
    fake.private_text(worker, "/screen daily_health")
    rig.drain()
    [post] = [m for m in fake.messages(group) if "每日健康排查" in m["text"]]
    url = post["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert url.startswith(f"https://t.me/{fake.username}?start=")
    token = parse_qs(urlsplit(url).query)["start"][0]

    fake.private_text(worker, f"/code {en_phone}")
    code = re.search(r"(\d{8})", fake.texts(1001)[-1]).group(1)  # type: ignore[union-attr]

    zh_user, en_user = fake.user(2001, "张三", "zh-hans"), fake.user(2002, "Tom", "en")
    fake.private_text(zh_user, f"/start {token}")  # from the group's button
    fake.private_text(en_user, f"/start {token}")
    fake.share_contact(zh_user, zh_phone)
    fake.private_text(en_user, f"{en_phone} {code}")  # phone and one-time code together
    assert "体温" in " ".join(fake.texts(2001)[-3:]) and "temperature" in " ".join(fake.texts(2002)[-3:])

    async def converse(user: dict[str, Any], turns: list[tuple[str, str]]) -> None:
        for how, what in turns:
            await asyncio.to_thread(answer, rig, user, how, what)

    async def both() -> None:
        await asyncio.gather(converse(zh_user, ZH), converse(en_user, EN))

    asyncio.run(both())

    for resident_id, stored in [(zh_id, ZH_STORED), (en_id, EN_STORED)]:
        submission = store.latest_submission(resident_id, "daily_health")
        assert submission is not None and submission.status == "complete", fake.texts(2001)[-4:]
        assert {k: a.value for k, a in submission.answers.items()} == stored
        assert submission.campaign_id is not None and submission.channel == "telegram"
        assert {a.channel for a in submission.answers.values()} == {"telegram"}
    assert store.latest_submission(zh_id).language == "zh" and store.latest_submission(en_id).language == "en"
    assert "谢谢" in fake.texts(2001)[-1] and "Thank you" in fake.texts(2002)[-1]


def test_redelivery_and_stale_buttons_through_the_real_core(rig: TelegramRig, bot_stack: Stack) -> None:
    fake, store = rig.fake, rig.store
    resident_id = store.add_resident("T01", f"幸福路{uuid.uuid4().hex[:6]}号", "李四", (phone := new_phone()), 1960)
    from campaigns import QUESTIONNAIRE_DIR
    from campaigns.registry import load_and_register

    q = load_and_register(store, QUESTIONNAIRE_DIR)["daily_health"]
    token = store.campaign_token(store.create_campaign("s", "T01", q.id, q.version, "test"))
    user = fake.user(3001, "李四")
    fake.private_text(user, f"/start {token}")
    fake.share_contact(user, phone)
    answer(rig, user, "type", "36.5")
    asked = [m for m in fake.messages(3001) if m.get("reply_markup")]
    assert asked, fake.texts(3001)
    cough = asked[-1]
    answer(rig, user, "button", "没有")
    before = fake.texts(3001)
    assert fake.redeliver(max(fake.updates)) == 200  # Telegram delivers the button press again
    fake.press(user, cough, cough["reply_markup"]["inline_keyboard"][0][0]["callback_data"])  # stale: 有
    assert fake.texts(3001) == before
    assert "失效" in fake.callback_answers[-1]["text"]
    answers = store.latest_submission(resident_id).answers
    assert answers["cough"].value == "no" and "sore_throat" not in answers
