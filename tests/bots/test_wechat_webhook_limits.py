"""Issue 9 on the WeChat webhook, against the loopback fake (SQLite and PostgreSQL): a store call blocked for 3 s does
not stall another callback's reply (8); the query's signature is checked before the body is read and bodies are
capped (13); a message claimed by a process killed with -9 is handled once its lease ran out (10)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from gridreach.dialogue import OnceOnly
from gridreach.store import Store
from tests.bots._wechat import Scripted, new_resident, open_account, openid, seed_grid


def bound_openid(store: Store) -> str:
    resident_id, _ = new_resident(store)
    who = openid()
    store.link_identity(resident_id, "wechat", who)
    return who


class SlowStore(Store):
    """A store whose lookups of one account block for 3 s (a lock held elsewhere)."""

    slow: str = ""

    def resident_by_identity(self, channel: str, external_id: str) -> Any:
        if external_id == self.slow:
            time.sleep(3.0)
        return super().resident_by_identity(channel, external_id)


def test_a_blocked_store_call_does_not_stall_another_callback(store: Store, db_url: str) -> None:
    seed_grid(store)
    slow = SlowStore.from_url(db_url)
    account = open_account(slow, OnceOnly(Scripted(), slow))
    try:
        blocked, other = bound_openid(store), bound_openid(store)
        slow.slow = blocked
        timings: dict[str, float] = {}

        def send(name: str, who: str) -> None:
            started = time.monotonic()
            delivery = account.fake.text(who, "你好")
            timings[name] = time.monotonic() - started
            assert delivery.status == 200 and delivery.text

        first = threading.Thread(target=send, args=("blocked", blocked))
        first.start()
        time.sleep(0.3)  # the blocked callback is inside its 3 s store call now
        send("other", other)
        first.join(30)
        assert timings["blocked"] >= 3.0
        assert timings["other"] < 1.5, timings  # the loop kept serving: WeChat's 5 s are not spent waiting
    finally:
        account.close()
        slow.close()


def _raw_post(url: str, query: dict[str, str], headers: dict[str, str], body: bytes = b"") -> tuple[int, float]:
    parts = urlsplit(url)
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"POST {parts.path}?{urlencode(query)} HTTP/1.1\r\nHost: {parts.hostname}\r\n{head}\r\n".encode()
                     + body)
        status = int(sock.recv(200).split(b" ", 2)[1])
    return status, time.monotonic() - started


def test_the_signature_is_checked_before_the_body_is_read_and_bodies_are_capped(store: Store) -> None:
    seed_grid(store)
    dialogue = Scripted()
    account = open_account(store, OnceOnly(dialogue, store))
    try:
        fake, who = account.fake, bound_openid(store)
        query, body = fake.signed(fake.message_xml(who, "text", "<Content>你好</Content><MsgId>7</MsgId>"))
        huge = {"Content-Type": "text/xml", "Content-Length": str(100 * 1024 * 1024)}
        # 100 MB announced and nothing sent: answered at once, before any of it could be read
        assert _raw_post(fake.webhook_url, {**query, "signature": "0" * 40}, huge)[0] == 403
        assert _raw_post(fake.webhook_url, {**query, "timestamp": "1000000000"}, huge)[0] == 403
        status, took = _raw_post(fake.webhook_url, query, huge)
        assert status == 413 and took < 5
        padded = body.replace(b"</xml>", b"<Pad>" + b"a" * (70 * 1024) + b"</Pad></xml>")
        query, _ = fake.signed("<xml/>")
        assert fake.post(query, padded).status_code == 413
        assert dialogue.calls == []
        assert fake.text(who, "你好").text  # a callback of ordinary size goes through
        assert len(dialogue.calls) == 1
    finally:
        account.close()


def test_a_message_claimed_by_a_killed_process_is_handled_after_its_lease(store: Store, db_url: str) -> None:
    seed_grid(store)
    dialogue = Scripted()
    account = open_account(store, OnceOnly(dialogue, store))
    try:
        who = bound_openid(store)
        code = ("import os, signal, sys\nfrom datetime import timedelta\nfrom gridreach.store import Store\n"
                "s = Store.from_url(sys.argv[1])\n"
                "for msg_id, lease in (('6200000000000000008', 600), ('6200000000000000009', 1.0)):\n"
                "    assert s.claim_message('wechat', msg_id, timedelta(seconds=lease))\n"
                "os.kill(os.getpid(), signal.SIGKILL)\n")
        done = subprocess.run([sys.executable, "-c", code, db_url], timeout=120,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
        assert done.returncode == -9
        time.sleep(1.1)
        # its lease still live (the killed turn might yet be running elsewhere): WeChat's tries get "success"
        assert account.fake.text(who, "你好", msg_id="6200000000000000008").empty
        assert dialogue.calls == []
        delivery = account.fake.text(who, "你好", msg_id="6200000000000000009")  # lease over: handled
        assert delivery.text and len(dialogue.calls) == 1
        assert store.claim_inbound("wechat", "6200000000000000009", timedelta(seconds=1)) == "done"
    finally:
        account.close()
