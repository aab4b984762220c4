"""Telegram delivery: Telegram's 429s honoured, 5xx retried then given up, replies never lost or doubled,
and polling mode end to end (updates acknowledged only once handled)."""

from __future__ import annotations

import time
from typing import Any

from bots.pacing import Limit
from bots.telegram.broadcast import enqueue_notice
from tests.bots._telegram import ScriptedDialogue
from tests.bots.conftest import TelegramRig, seed_grid, telegram_rig

PHONE = "+8613912345678"


def settle(rig: TelegramRig, timeout: float = 30.0) -> None:
    """Drain the outbox until nothing is pending or being sent (retries fall due on their own)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rig.drain()
        if not rig.store.list_outbound("telegram", status="pending") and \
                not rig.store.list_outbound("telegram", status="sending"):
            return
        time.sleep(0.1)
    raise AssertionError("the outbox did not settle")


def bind_groups(rig: TelegramRig, chats: list[int]) -> None:
    worker = rig.fake.user(11, "Wang")
    rig.fake.share_contact(worker, "+8613800138000")
    for chat in chats:
        rig.fake.group(chat, f"g{chat}")
        rig.store.bind_group("telegram", str(chat), "T01", f"g{chat}", "test")


def test_429_retry_after_is_honoured_and_nothing_is_lost_or_doubled(store: Any) -> None:
    seed_grid(store)
    store.add_resident("T01", "幸福路1号", "张三", PHONE, 1970, "zh")
    strict = {"per_chat": (1, 1.0), "per_group": (20, 60.0), "overall": (2, 1.0)}
    with telegram_rig(store, ScriptedDialogue(), fake_limits=strict, per_chat=Limit(10, 0.05),
                      overall=Limit(100, 0.05)) as rig:
        fake = rig.fake
        bind_groups(rig, [-401, -402, -403])
        notice_id = store.create_notice("T01", "停水", "明天停水", "test")
        assert enqueue_notice(store, notice_id, "T01", "明天停水") == ["-401", "-402", "-403"]
        assert enqueue_notice(store, notice_id, "T01", "明天停水") == ["-401", "-402", "-403"]  # queued once
        user = fake.user(41, "Zhang")
        fake.share_contact(user, PHONE)  # the direct replies meet 429s too
        fake.private_text(user, "有")
        settle(rig)
        assert any(code == 429 for _, code, _ in fake.rejected)
        for chat in (-401, -402, -403):
            assert fake.texts(chat).count("📢 通知 / Notice\n\n明天停水") == 1
        assert [o.status for o in store.list_outbound("telegram", kind="notice")] == ["sent"] * 3
        texts = fake.texts(41)
        assert len(texts) == len(set(texts)) and texts[0].startswith("谢谢")


def test_5xx_is_retried_with_backoff_then_given_up(store: Any) -> None:
    seed_grid(store)
    with telegram_rig(store, ScriptedDialogue()) as rig:
        fake = rig.fake
        bind_groups(rig, [-501])
        fake.fail_next("sendMessage", 500, times=2)
        first = store.create_notice("T01", "a", "第一条", "test")
        enqueue_notice(store, first, "T01", "第一条")
        settle(rig)
        assert fake.texts(-501).count("📢 通知 / Notice\n\n第一条") == 1
        [sent] = store.list_outbound("telegram", status="sent")
        assert sent.attempts == 3

        fake.fail_next("sendMessage", 502, times=3)  # send_attempts is 3 in the tests
        second = store.create_notice("T01", "b", "第二条", "test")
        enqueue_notice(store, second, "T01", "第二条")
        settle(rig)
        [failed] = store.list_outbound("telegram", status="failed")
        assert failed.dedupe_key == f"notice:{second}:-501" and "unavailable after 3" in (failed.error or "")
        assert not any("第二条" in t for t in fake.texts(-501))


def test_a_reply_that_meets_a_5xx_goes_out_later_from_the_outbox(store: Any) -> None:
    seed_grid(store)
    store.add_resident("T01", "幸福路1号", "张三", PHONE, 1970, "zh")
    with telegram_rig(store, ScriptedDialogue()) as rig:
        fake = rig.fake
        user = fake.user(42, "Zhang")
        fake.open_private(user)
        fake.fail_next("sendMessage", 500)
        fake.share_contact(user, PHONE)
        settle(rig)
        assert [t for t in fake.texts(42) if t.startswith("谢谢")] and len(fake.texts(42)) == 1
        [reply] = store.list_outbound("telegram", kind="reply")
        assert reply.status == "sent"


class FlakyDialogue(ScriptedDialogue):
    """Fails its first turn, as a crashed dialogue core would."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def handle(self, sender_id: str, text: str, channel: str, metadata: dict[str, Any] | None = None) -> Any:
        if not self.failed:
            self.failed = True
            raise RuntimeError("the dialogue core fell over")
        return await super().handle(sender_id, text, channel, metadata)


def test_polling_mode_end_to_end(store: Any) -> None:
    seed_grid(store)
    store.add_resident("T01", "幸福路1号", "张三", PHONE, 1970, "zh")
    from campaigns import QUESTIONNAIRE_DIR
    from campaigns.registry import load_and_register

    q = load_and_register(store, QUESTIONNAIRE_DIR)["daily_health"]
    token = store.campaign_token(store.create_campaign("s", "T01", q.id, q.version, "test"))
    with telegram_rig(store, FlakyDialogue(), mode="polling") as rig:
        fake, dialogue = rig.fake, rig.bot.dialogue
        assert fake.webhook == {}
        user = fake.user(43, "Zhang")
        fake.private_text(user, f"/start {token}")
        fake.share_contact(user, PHONE)  # binding, then the campaign's first turn fails once: redelivered
        assert fake.wait_for(lambda: any("咳嗽" in m.get("text", "") for m in fake.sent.get(43, [])))
        question = next(m for m in fake.messages(43) if m["text"] == "您有没有咳嗽？")
        fake.press(user, question, question["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
        assert fake.wait_for(lambda: any("体温" in m.get("text", "") for m in fake.sent.get(43, [])))
        fake.private_text(user, "36.5")
        assert fake.wait_for(lambda: dialogue.answers.get("telegram:43", {}).get("temperature") == "36.5")
        assert dialogue.answers["telegram:43"] == {"cough": "yes", "temperature": "36.5"}
        assert sum(t.startswith("您有没有咳嗽？") for t in fake.texts(43)) == 1
        assert any(m == "getUpdates" for m, _ in fake.calls) and fake.callback_answers


def test_a_chats_messages_go_out_in_the_order_they_were_queued(store: Any) -> None:
    """Chats are served side by side, but one chat's notices never overtake each other (store calls run in worker
    threads, so sending each row as its own task let a later notice go first). Paced at Telegram's own limits; a
    message refused with 429 is retried later, and the chat's later messages wait with it (``bots.outbox``)."""
    seed_grid(store)
    with telegram_rig(store, ScriptedDialogue()) as rig:
        bind_groups(rig, [-501, -502])
        for n in range(4):
            notice_id = store.create_notice("T01", f"通知{n}", f"第{n}条", "test")
            enqueue_notice(store, notice_id, "T01", f"第{n}条")
        settle(rig, timeout=90.0)
        for chat in (-501, -502):
            assert rig.fake.texts(chat) == [f"📢 通知 / Notice\n\n第{n}条" for n in range(4)]
