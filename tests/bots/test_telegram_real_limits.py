"""Telegram's real per-chat limit (1 message/s) on both sides, connector and fake: a turn that sends two messages
and the next turn's reply all arrive, one second apart, without a single 429 (bench/chat.py found the pacer sending
at exactly the limit and Telegram counting on arrival: a 429 and a second lost on most two-message turns)."""

from __future__ import annotations

from typing import Any

from bots.pacing import Limit
from tests.bots._telegram import ScriptedDialogue
from tests.bots.conftest import seed_grid, telegram_rig

REAL = {"per_chat": (1, 1.0), "per_group": (20, 60.0), "overall": (30, 1.0)}


def test_two_message_turns_at_the_real_per_chat_limit_meet_no_429(store: Any) -> None:
    from campaigns import QUESTIONNAIRE_DIR
    from campaigns.registry import load_and_register

    seed_grid(store)
    q = load_and_register(store, QUESTIONNAIRE_DIR)["daily_health"]
    token = store.campaign_token(store.create_campaign("screening", "T01", q.id, q.version, "test"))
    users = []
    for n in range(3):
        resident = store.add_resident("T01", f"幸福路{n}号", f"居民{n}", f"+861391234567{n}", 1970, "zh")
        store.link_identity(resident, "telegram", str(700 + n))
        users.append({"id": 700 + n, "is_bot": False, "first_name": f"U{n}", "language_code": "zh"})
    with telegram_rig(store, ScriptedDialogue(), fake_limits=REAL, per_chat=Limit(1, 1.0),
                      per_group=Limit(20, 60.0), overall=Limit(30, 1.0)) as rig:
        for user in users:
            assert rig.fake.private_text(user, f"/start {token}") == 200  # two messages: intro, question
            assert rig.fake.private_text(user, "没有") == 200  # at once: its reply waits for the chat's second
        assert rig.fake.rejected == []
        for user in users:
            assert rig.fake.texts(user["id"]) == ["开始排查", "您有没有咳嗽？", "体温多少度？"]
