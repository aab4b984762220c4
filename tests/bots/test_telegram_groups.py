"""Telegram groups: grid workers bind groups, groups migrate and leave, notices and their receipts (webhook mode,
real HTTP both ways, on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tests.bots._telegram import ScriptedDialogue
from tests.bots.conftest import TelegramRig, seed_grid, telegram_rig

WORKER_PHONE = "+8613800138000"


def link_worker(rig: TelegramRig, user: dict[str, Any], phone: str = WORKER_PHONE) -> None:
    assert rig.fake.share_contact(user, phone) == 200
    worker = rig.store.worker_by_identity("telegram", str(user["id"]))
    assert worker is not None and f"/bind {worker.grid_code}" in rig.fake.texts(user["id"])[-1]


def test_a_grid_worker_binds_groups_and_a_stranger_cannot(store: Any) -> None:
    workers = seed_grid(store)
    with telegram_rig(store, ScriptedDialogue()) as rig:
        fake = rig.fake
        worker, stranger = fake.user(11, "Wang"), fake.user(12, "Zhang")
        fake.group(-101, "幸福小区1号楼")
        assert fake.group_text(-101, stranger, "/bind T01") == 200
        assert store.get_group("telegram", "-101") is None
        assert "网格员" in fake.texts(-101)[-1]

        link_worker(rig, worker)
        assert store.worker_by_identity("telegram", "11").id == workers["T01"]
        fake.group_text(-101, worker, "/bind@someone_else_bot T01")  # a command for another bot: ignored
        fake.group_text(-101, worker, "/bind T02")
        assert store.get_group("telegram", "-101") is None and "T01" in fake.texts(-101)[-1]
        fake.group_text(-101, worker, f"/bind@{fake.username} t01")
        group = store.get_group("telegram", "-101")
        assert group is not None and group.active and group.grid_code == "T01" and group.title == "幸福小区1号楼"

        fake.group_text(-101, stranger, "我今天发烧了")  # not a command: the bot never takes answers in groups
        assert len(fake.texts(-101)) == 3

        fake.migrate_group(-101, -1001101, worker)
        assert store.get_group("telegram", "-1001101").active
        assert [g.external_id for g in store.groups_for_grid("T01", "telegram")] == ["-1001101"]

        fake.group_text(-1001101, worker, "/unbind")
        assert store.groups_for_grid("T01", "telegram") == []


def test_a_notice_reaches_every_bound_group_and_receipts_are_recorded(store: Any) -> None:
    seed_grid(store)
    resident_id = store.add_resident("T01", "幸福路1号", "张三", "+8613912345678", 1970, "zh")
    with telegram_rig(store, ScriptedDialogue()) as rig:
        fake = rig.fake
        worker, other_worker = fake.user(11, "Wang"), fake.user(13, "Li", "en")
        link_worker(rig, worker)
        link_worker(rig, other_worker, "+8613800138001")
        for chat, who, grid in [(-201, worker, "T01"), (-202, worker, "T01"), (-203, other_worker, "T02")]:
            fake.group(chat, f"group {chat}")
            fake.group_text(chat, who, f"/bind {grid}")
        fake.private_text(worker, "/notice 明天上午9点核酸检测，请带好身份证。")
        assert "2" in fake.texts(11)[-1]
        rig.drain()
        notices = {chat: [m for m in fake.messages(chat) if "核酸" in m["text"]] for chat in (-201, -202, -203)}
        assert len(notices[-201]) == len(notices[-202]) == 1 and notices[-203] == []
        button = notices[-201][0]["reply_markup"]["inline_keyboard"][0][0]
        assert button["text"] == "收到 / Received" and button["callback_data"].startswith("n:")
        notice_id = int(button["callback_data"][2:])
        assert {o.dedupe_key for o in store.list_outbound("telegram", kind="notice")} == {
            f"notice:{notice_id}:-201", f"notice:{notice_id}:-202"}

        resident, stranger = fake.user(21, "Zhang"), fake.user(22, "Nobody")
        fake.share_contact(resident, "+86 139 1234 5678")
        assert store.resident_by_identity("telegram", "21").id == resident_id
        fake.press(resident, notices[-201][0], button["callback_data"])
        fake.press(stranger, notices[-202][0], button["callback_data"])
        [receipt] = store.notice_receipts(notice_id)
        assert (receipt.resident_id, receipt.channel, receipt.status) == (resident_id, "telegram", "acknowledged")
        answers = {a["callback_query_id"]: a for a in fake.callback_answers}
        assert len(answers) == 2
        to_stranger = [a for a in answers.values() if a.get("url")]
        assert to_stranger and to_stranger[0]["url"] == f"https://t.me/{fake.username}?start=bind"

        fake.private_text(fake.user(23), "/notice 冒充")  # not a grid worker
        assert "网格员" in fake.texts(23)[-1]
        assert len(store.list_outbound("telegram", kind="notice")) == 2


def test_a_group_that_removed_the_bot_gets_nothing_more(store: Any) -> None:
    seed_grid(store)
    with telegram_rig(store, ScriptedDialogue()) as rig:
        fake = rig.fake
        worker = fake.user(11, "Wang")
        link_worker(rig, worker)
        for chat in (-301, -302):
            fake.group(chat, "g")
            fake.group_text(chat, worker, "/bind T01")
        fake.remove_bot(-301, worker, "kicked")
        assert not store.get_group("telegram", "-301").active
        fake.private_text(worker, "/notice 停水通知")
        rig.drain()
        assert not any("停水" in t for t in fake.texts(-301))
        assert sum("停水" in t for t in fake.texts(-302)) == 1

        # removed without the bot noticing (no my_chat_member): the 403 on sending deactivates the group
        with fake.lock:
            fake.left.add(-302)
        fake.private_text(worker, "/notice 停电通知")
        rig.drain()
        assert not store.get_group("telegram", "-302").active
        [failed] = store.list_outbound("telegram", status="failed")
        assert failed.target == "-302" and "403" in (failed.error or "")
