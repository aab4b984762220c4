"""Issue 9 on the Telegram connector, through the loopback Bot API fake (webhook and polling, SQLite and PostgreSQL):
group takeover (14), forged receipts (15), a retried update's side effects (18), a claim left by a killed process
(10), no blocking store call on the serving loop (8), bodies capped and the secret checked before reading (13)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any

from campaigns import QUESTIONNAIRE_DIR
from campaigns.registry import load_and_register
from gridreach.dialogue import DialogueError
from gridreach.store import Store
from tests.bots._telegram import ScriptedDialogue
from tests.bots.conftest import seed_grid, telegram_rig

ADMIN = 990001


def test_only_an_unbound_group_its_own_grid_worker_or_an_admin_binds_a_group(store: Any) -> None:
    seed_grid(store)
    with telegram_rig(store, ScriptedDialogue(), admin_user_ids=(ADMIN,)) as rig:
        fake = rig.fake
        wang, li, admin, stranger = fake.user(11), fake.user(13, "Li", "en"), fake.user(ADMIN), fake.user(12)
        fake.share_contact(wang, "+8613800138000")  # grid worker of T01
        fake.share_contact(li, "+8613800138001")  # grid worker of T02
        fake.group(-501, "幸福小区1号楼")
        assert fake.group_text(-501, wang, "/bind T01") == 200
        assert store.get_group("telegram", "-501").grid_code == "T01"

        fake.group_text(-501, li, "/bind T02")  # the takeover: refused, said why, audited
        assert store.get_group("telegram", "-501").grid_code == "T01"
        assert "T01" in fake.texts(-501)[-1] and "/unbind" in fake.texts(-501)[-1]
        refused = [e for e in store.audit_entries("chat_group", "-501") if e.action == "group_bind_refused"]
        assert refused and refused[0].actor.startswith("worker:") and refused[0].detail["bound_to"] == "T01"
        fake.group_text(-501, li, "/unbind")  # nor can they unbind another grid's group
        fake.group_text(-501, stranger, "/unbind")
        assert store.get_group("telegram", "-501").active

        fake.group_text(-501, wang, "/bind T01")  # the same grid's worker: fine
        assert store.get_group("telegram", "-501").grid_code == "T01"
        fake.group_text(-501, wang, "/unbind")
        assert not store.get_group("telegram", "-501").active
        fake.group_text(-501, li, "/bind T02")  # unbound now: any grid worker, to their own grid
        assert store.get_group("telegram", "-501").grid_code == "T02"

        fake.group_text(-501, admin, "/bind T01")  # an administrator (not a grid worker) moves it
        group = store.get_group("telegram", "-501")
        assert group.grid_code == "T01" and group.active and group.bound_by == f"admin:telegram:{ADMIN}"
        fake.group_text(-501, admin, "/bind NOPE")
        assert "NOPE" in fake.texts(-501)[-1] and store.get_group("telegram", "-501").grid_code == "T01"
        fake.group_text(-501, admin, "/unbind")
        assert not store.get_group("telegram", "-501").active


def test_a_receipt_counts_only_from_a_bound_resident_of_the_notices_grid(store: Any) -> None:
    seed_grid(store)
    mine = store.add_resident("T01", "幸福路1号", "张三", "+8613912345678", 1970, "zh")
    other = store.add_resident("T02", "和平路2号", "李四", "+8613912345679", 1971, "zh")
    with telegram_rig(store, ScriptedDialogue()) as rig:
        fake = rig.fake
        worker = fake.user(11)
        fake.share_contact(worker, "+8613800138000")
        fake.group(-601, "mixed group")
        fake.group_text(-601, worker, "/bind T01")
        fake.private_text(worker, "/notice 明天停水")
        rig.drain()
        post = next(m for m in fake.messages(-601) if "停水" in m["text"])
        data = post["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        notice_id = int(data[2:])

        neighbour, resident = fake.user(22), fake.user(21)
        fake.share_contact(neighbour, "+8613912345679")  # a resident of T02 in the same group
        fake.share_contact(resident, "+8613912345678")
        fake.press(neighbour, post, data)
        assert store.notice_receipts(notice_id) == []
        assert "not sent to your grid" in fake.callback_answers[-1]["text"] or \
            "不是发给您所在网格" in fake.callback_answers[-1]["text"]
        fake.press(resident, post, "n:999999")  # a notice that does not exist
        assert store.notice_receipts(notice_id) == [] and fake.callback_answers[-1]["text"].startswith("这个按钮")
        fake.press(resident, post, data)
        [receipt] = store.notice_receipts(notice_id)
        assert (receipt.resident_id, receipt.status) == (mine, "acknowledged") and receipt.resident_id != other


class FailingTurns(ScriptedDialogue):
    """The dialogue core is down for the first ``failures`` turns (as when the action server is restarting)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def handle(self, sender_id: str, text: str, channel: str, metadata: dict[str, Any] | None = None) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise DialogueError("the action server is restarting")
        return await super().handle(sender_id, text, channel, metadata)


def _campaign_token(store: Any) -> str:
    q = load_and_register(store, QUESTIONNAIRE_DIR)["daily_health"]
    return str(store.campaign_token(store.create_campaign("s", "T01", q.id, q.version, "test")))


def test_a_retried_update_sends_each_message_once_polling(store: Any) -> None:
    """The grid worker is also a resident who opened a screening: "worker linked" and "bound" are sent, then the
    screening's first turn fails; the poller retries the update (up to 5 times) and nothing is sent twice."""
    seed_grid(store)
    store.add_resident("T01", "幸福路1号", "王网格", "+8613800138000", 1980, "zh")
    token = _campaign_token(store)
    with telegram_rig(store, FailingTurns(3), mode="polling") as rig:
        fake = rig.fake
        user = fake.user(71, "Wang")
        fake.private_text(user, f"/start {token}")
        update = fake.share_contact(user, "+8613800138000")
        assert update is None  # queued for getUpdates
        assert fake.wait_for(lambda: any("咳嗽" in t for t in fake.texts(71)), timeout=60)
        texts = fake.texts(71)
        assert sum("网格员" in t and "/bind" in t for t in texts) == 1, texts  # "worker linked", once
        assert sum(t.startswith("谢谢，已确认") for t in texts) == 1, texts  # "bound", once
        assert sum(t == "开始排查" for t in texts) == 1 and sum(t == "您有没有咳嗽？" for t in texts) == 1
        assert rig.bot.dialogue.failures == 0


def test_a_retried_update_sends_each_message_once_webhook(store: Any) -> None:
    seed_grid(store)
    store.add_resident("T01", "幸福路1号", "张三", "+8613912345678", 1970, "zh")
    token = _campaign_token(store)
    with telegram_rig(store, FailingTurns(2)) as rig:
        fake = rig.fake
        user = fake.user(72)
        fake.private_text(user, f"/start {token}")
        assert fake.share_contact(user, "+8613912345678") == 500  # bound, then the first turn failed
        update_id = fake.deliveries[-1][0]
        assert fake.redeliver(update_id) == 500
        assert fake.redeliver(update_id) == 200
        assert fake.redeliver(update_id) == 200  # handled: a later redelivery changes nothing
        texts = fake.texts(72)
        assert sum(t.startswith("谢谢，已确认") for t in texts) == 1, texts
        assert sum(t == "您有没有咳嗽？" for t in texts) == 1, texts
        question = next(m for m in fake.messages(72) if m["text"] == "您有没有咳嗽？")
        assert question["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "q:cough:1"


def _killed_holding_a_claim(db_url: str, key: str, lease: float) -> None:
    """A real process claims the update and is killed (-9) before handling it."""
    code = ("import os, signal, sys\nfrom datetime import timedelta\nfrom gridreach.store import Store\n"
            "s = Store.from_url(sys.argv[1])\n"
            "assert s.claim_message('telegram_update', sys.argv[2], timedelta(seconds=float(sys.argv[3])))\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", code, db_url, key, str(lease)], timeout=120,
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.returncode == -9


def test_an_update_claimed_by_a_killed_process_is_handled_after_its_lease(store: Any, db_url: str) -> None:
    seed_grid(store)
    store.add_resident("T01", "幸福路1号", "张三", "+8613912345678", 1970, "zh")
    with telegram_rig(store, ScriptedDialogue()) as rig:
        fake = rig.fake
        user = fake.user(73)
        update = fake.private_text_update(user, "/help")
        _killed_holding_a_claim(db_url, f"{fake.bot_id}:{update['update_id']}", 1.5)
        assert fake.post_to_webhook(update) == 503  # the lease is live: Telegram delivers it again later
        assert fake.texts(73) == []
        time.sleep(1.6)
        assert fake.redeliver(update["update_id"]) == 200  # the lease ran out: handled now
        assert len(fake.texts(73)) == 1
        assert fake.redeliver(update["update_id"]) == 200  # and finished: ignored from now on
        assert len(fake.texts(73)) == 1


class SlowStore(Store):
    """A store whose lookups of one person block for 3 s (a lock held elsewhere)."""

    slow_user = "74"

    def resident_by_identity(self, channel: str, external_id: str) -> Any:
        if external_id == self.slow_user:
            time.sleep(3.0)
        return super().resident_by_identity(channel, external_id)


def test_a_blocked_store_call_does_not_stall_another_webhook(db_url: str, store: Any) -> None:
    seed_grid(store)
    slow = SlowStore.from_url(db_url)
    try:
        with telegram_rig(slow, ScriptedDialogue()) as rig:
            fake = rig.fake
            blocked, other = fake.user(74), fake.user(75)
            timings: dict[str, float] = {}

            def send(name: str, user: dict[str, Any]) -> None:
                started = time.monotonic()
                assert fake.private_text(user, "你好") == 200
                timings[name] = time.monotonic() - started

            first = threading.Thread(target=send, args=("blocked", blocked))
            first.start()
            time.sleep(0.3)  # the blocked update is inside its 3 s store call now
            send("other", other)
            first.join(30)
            assert timings["blocked"] >= 3.0
            assert timings["other"] < 1.5, timings  # the loop kept serving
            assert fake.texts(75) and fake.texts(74)
    finally:
        slow.close()


def _raw_post(url: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, float]:
    """POST with whatever headers (a Content-Length far above what is sent); the status and how long it took."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{head}\r\n".encode() + body)
        status = int(sock.recv(200).split(b" ", 2)[1])
    return status, time.monotonic() - started


def test_bodies_are_capped_and_the_secret_checked_before_reading(store: Any) -> None:
    seed_grid(store)
    with telegram_rig(store, ScriptedDialogue(), max_update_bytes=64 * 1024) as rig:
        fake = rig.fake
        url, secret = fake.webhook["url"], fake.webhook["secret_token"]
        huge = {"Content-Type": "application/json", "Content-Length": str(100 * 1024 * 1024)}
        # 100 MB announced, nothing sent: answered at once, before any of the body could be read
        assert _raw_post(url, huge)[0] == 403
        assert _raw_post(url, {**huge, "X-Telegram-Bot-Api-Secret-Token": "wrong"})[0] == 403
        status, took = _raw_post(url, {**huge, "X-Telegram-Bot-Api-Secret-Token": secret})
        assert status == 413 and took < 5
        big = b'{"update_id": 1, "x": "' + b"a" * (70 * 1024) + b'"}'
        assert fake.post_to_webhook(big) == 413
        chunked = {"Content-Type": "application/json", "Transfer-Encoding": "chunked",
                   "X-Telegram-Bot-Api-Secret-Token": secret}
        piece = b"a" * 40_000
        body = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(3)) + b"0\r\n\r\n"
        assert _raw_post(url, chunked, body)[0] == 413  # no length declared: stopped once over the cap
        assert fake.post_to_webhook(b'{"update_id": 5, "message": {}}') == 400
        assert store.claim_inbound("telegram_update", f"{fake.bot_id}:5", timedelta(seconds=1)) == "claimed"
