"""``Started.send`` of the Telegram and WeChat Official Account connectors, started as `gridreach serve` starts them
(``read_settings`` + ``start(Serving, settings)``, routes on a Sanic server, loops run, closers at the end) against
the loopback fakes: a text and a question reach one bound resident in the channel's form; a resident the vendor
refuses ends as documented (Telegram 403: dropped and recorded as an opt-out, a 5xx: deferred to the outbox; WeChat
45015 or a closed window: the outbox row is failed and audited, nothing raised)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import bots
from bots.telegram.connector import CONNECTOR as TELEGRAM
from bots.wechat.connector import CALLBACK_PATH
from bots.wechat.connector import OFFICIAL_ACCOUNT as WECHAT
from gridreach.connector import Outgoing, Serving, Started
from gridreach.dialogue import OnceOnly
from gridreach.errors import MalformedRequest, RecipientGone
from gridreach.settings import Settings
from gridreach_app import web
from gridreach_fakes.telegram import FakeTelegram
from gridreach_fakes.wechat import FakeWeChat
from tests.bots import _wechat
from tests.bots._telegram import ScriptedDialogue
from tests.bots.conftest import seed_grid

BOTS = str(Path(bots.__file__).parent)  # the connectors' code
QUESTION = Outgoing("您有没有咳嗽？", ("有", "没有"))


@asynccontextmanager
async def serving(connector: Any, section: dict[str, Any] | None, env: dict[str, str], store: Any,
                  dialogue: Any, db_url: str, home: Path) -> AsyncIterator[tuple[Started, str]]:
    """The connector as `serve` runs it: settings read, started, its routes served; then stopped and closed."""
    settings = connector.read_settings(section, env, home, f"channels.yml: {connector.name}.")
    assert settings is not None
    sock = web.bind()
    base = web.url_of(sock)
    started = await connector.start(Serving(store, OnceOnly(dialogue, store), Settings(home=home, database_url=db_url),
                                            base), settings)
    assert started.send is not None
    served = await web.start(web.new_app(routes=started.routes), sock)
    try:
        yield started, base
    finally:
        await served.stop()
        for close in reversed(started.closers):
            await close()
        sock.close()


def _connector_tasks() -> list[str]:
    """Pending tasks running the connectors' code (the sender loop, late dialogue turns)."""
    code = [getattr(t.get_coro(), "cr_code", None) for t in asyncio.all_tasks() if not t.done()]
    return [c.co_name for c in code if c is not None and c.co_filename.startswith(BOTS)]


async def test_telegram_send_a_text_and_a_question_and_a_blocked_user_opts_out(store: Any, db_url: str,
                                                                             tmp_path: Path) -> None:
    seed_grid(store)
    zhang = store.add_resident("T01", "幸福路1号", "张三", "+8613912345678", 1970, "zh")
    li = store.add_resident("T01", "幸福路2号", "李四", "+8613912345679", 1971, "zh")
    with FakeTelegram(per_chat=(1, 0.04), per_group=(20, 0.9), overall=(30, 0.04)) as fake:
        fake.open_private(fake.user(41, "Zhang"))
        fake.open_private(fake.user(42, "Li"))
        store.link_identity(zhang, "telegram", "41")
        store.link_identity(li, "telegram", "42")
        env = {"GRIDREACH_TELEGRAM_TOKEN": fake.token, "GRIDREACH_TELEGRAM_BOT": fake.username,
               "GRIDREACH_TELEGRAM_API_URL": fake.base_url, "GRIDREACH_TELEGRAM_WEBHOOK_SECRET": "test-secret_1"}
        section = {"per_chat": [1, 0.05], "overall": [30, 0.05], "retry_backoff": 0.05}
        async with serving(TELEGRAM, section, env, store, ScriptedDialogue(), db_url, tmp_path) as (started, _):
            assert started.send is not None
            assert "run" in _connector_tasks()  # the sender loop started with the web server
            await started.send("41", Outgoing("明天上午停水"))
            await started.send("41", QUESTION)
            sent = fake.messages(41)
            assert [m["text"] for m in sent] == ["明天上午停水", "您有没有咳嗽？"]
            assert sent[0]["sent_markup"] is None and sent[0]["chat"]["id"] == 41
            assert sent[1]["sent_markup"] == {"keyboard": [[{"text": "有"}], [{"text": "没有"}]],
                                              "one_time_keyboard": True, "resize_keyboard": True}

            with fake.lock:  # 李四 blocked the bot (and we missed the my_chat_member update)
                fake.blocked.add(42)
            await started.send("42", Outgoing("明天上午停水"))  # dropped, not raised
            assert fake.messages(42) == []
            assert [(m, code, p["chat_id"]) for m, code, p in fake.rejected] == [("sendMessage", 403, 42)]
            assert store.has_opted_out(li, "telegram") and not store.has_opted_out(zhang, "telegram")
            assert store.list_outbound("telegram") == []  # a 403 is not deferred to the outbox

            fake.fail_next("sendMessage", 502)  # Telegram unavailable: deferred to the outbox, sent by its loop
            await started.send("41", Outgoing("今晚停电"))
            [deferred] = store.list_outbound("telegram", kind="reply")
            assert (deferred.target, deferred.payload["text"]) == ("41", "今晚停电")
            assert await asyncio.to_thread(fake.wait_for, lambda: len(fake.texts(41)) == 3, 10.0)
            assert await asyncio.to_thread(fake.wait_for, lambda: store.list_outbound(
                "telegram", kind="reply")[0].status == "sent", 10.0)
            # 李四 is opted out now: refused before anything is sent; a chat id that is no number is malformed
            with pytest.raises(RecipientGone):
                await started.send("42", Outgoing("明天上午停水"))
            with pytest.raises(MalformedRequest):
                await started.send("not-a-chat", Outgoing("明天上午停水"))
        assert fake.texts(41) == ["明天上午停水", "您有没有咳嗽？", "今晚停电"]  # nothing more, nothing twice
        assert [(m, code) for m, code, _ in fake.rejected] == [("sendMessage", 403)]  # nothing sent to 李四 again
    assert _connector_tasks() == []  # the sender loop stopped with the web server


async def test_wechat_send_a_text_and_a_numbered_question_and_refusals_fail_in_the_outbox(
        store: Any, db_url: str, tmp_path: Path) -> None:
    _wechat.seed_grid(store)
    fake = FakeWeChat(_wechat.TOKEN, _wechat.APP_ID, _wechat.SECRET)
    env = {"GRIDREACH_WECHAT_APP_ID": _wechat.APP_ID, "GRIDREACH_WECHAT_TOKEN": _wechat.TOKEN,
           "GRIDREACH_WECHAT_APP_SECRET": _wechat.SECRET, "GRIDREACH_WECHAT_API_URL": fake.api_url}
    residents = [_wechat.new_resident(store)[0] for _ in range(3)]
    bound, unsubscribed, silent = openids = [_wechat.openid() for _ in residents]
    for resident, oid in zip(residents, openids, strict=True):
        store.link_identity(resident, "wechat", oid)
    try:
        async with serving(WECHAT, None, env, store, _wechat.Scripted(), db_url, tmp_path) as (started, base):
            assert started.send is not None
            fake.webhook_url = f"{base}{CALLBACK_PATH}/webhook"
            wrote = await asyncio.to_thread(fake.text, bound, "你好")  # opens the 48 h window on both sides
            assert wrote.status == 200
            store.note_inbound("wechat", unsubscribed)  # we think the window is open; WeChat does not
            already = fake.sent_to(bound)

            await started.send(bound, Outgoing("明天上午停水"))
            await started.send(bound, QUESTION)
            await started.send(unsubscribed, Outgoing("明天上午停水"))
            await started.send(silent, Outgoing("明天上午停水"))
            # each send is queued in the outbox (sent at most once, whatever happens) and drained at once
            assert fake.sent_to(bound)[len(already):] == ["明天上午停水", "您有没有咳嗽？\n1. 有\n2. 没有"]
            rows = {(r.target, r.payload["text"]): r for r in store.list_outbound("wechat", kind="service")}
            assert rows[(bound, "明天上午停水")].status == "sent"
            assert rows[(bound, "您有没有咳嗽？\n1. 有\n2. 没有")].status == "sent"
            refused = rows[(unsubscribed, "明天上午停水")]
            assert refused.status == "failed" and "45015" in (refused.error or "")
            closed = rows[(silent, "明天上午停水")]
            assert closed.status == "failed" and "48 h window" in (closed.error or "")
            assert fake.refused == [(unsubscribed, 45015)]  # the closed window was never sent to WeChat
            assert fake.sent_to(unsubscribed) == fake.sent_to(silent) == []
            dropped = [e.target_id for e in store.audit_entries("wechat_user")
                       if e.action == "wechat.service_message_dropped"]
            assert sorted(dropped) == sorted([unsubscribed, silent])
    finally:
        fake.close()
    assert _connector_tasks() == []  # closers ran: no late turn left behind
