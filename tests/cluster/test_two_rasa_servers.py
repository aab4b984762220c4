"""Scale path: two `rasa run` servers sharing a Redis lock store and a PostgreSQL tracker store hold one
resident's conversation: turns sent to either server, even at the same moment, are taken one at a time, none is
lost and no two are interleaved.

Needs the PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) servers the project is tested against.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import pytest
import redis

from campaigns.triggers import start_message
from gridreach.identity import resident_sender_id
from gridreach.settings import Settings
from gridreach.store import Store
from gridreach_app.action_server import ActionServer, free_port
from gridreach_app.dialogue import RemoteDialogue
from gridreach_app.model import PROJECT_ROOT, ensure_model
from tests.conftest import _libpq_dsn, empty_database, pg_url

REDIS = ("127.0.0.1", 6379, 3)


@pytest.fixture(scope="module")
def tracker_db() -> Iterator[str]:
    """A PostgreSQL database of its own for Rasa's ``events`` table, dropped afterwards."""
    name = f"gridreach_trackers_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(_libpq_dsn(pg_url()), connect_timeout=5)
    admin.autocommit = True
    try:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def lock_prefix() -> Iterator[str]:
    prefix = f"gridreachtest{uuid.uuid4().hex[:8]}"  # Rasa takes only an alphanumeric key prefix
    yield prefix
    client = redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS[2])
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def _endpoints(action_url: str, tracker_db: str, lock_prefix: str) -> str:
    user = (pg_url().split("://", 1)[1].split("@", 1)[0].split(":", 1)[0]) or "postgres"
    return (
        f'action_endpoint:\n  url: "{action_url}"\n'
        f"tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n  port: 5432\n"
        f"  db: {tracker_db}\n  username: {user}\n"
        f"lock_store:\n  type: dialogs.lock_store.AtomicRedisLockStore\n  url: {REDIS[0]}\n  port: {REDIS[1]}\n  db: {REDIS[2]}\n"
        f"  key_prefix: {lock_prefix}\n"
    )


def _rasa_server(stack: ExitStack, model: Path, endpoints: Path, log: Path) -> str:
    port = free_port()
    out = stack.enter_context(log.open("wb"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--enable-api", "-m", str(model), "--port", str(port),
         "-i", "127.0.0.1", "--endpoints", str(endpoints), "--credentials", str(endpoints.with_name("credentials.yml"))],
        cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"},
    )
    stack.callback(proc.wait, timeout=30)
    stack.callback(proc.terminate)
    return f"http://127.0.0.1:{port}"


def _wait_ready(url: str, log: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/status", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    pytest.fail(f"rasa run at {url} did not start: " + log.read_text()[-3000:])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, tracker_db: str, lock_prefix: str) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("cluster")
    model = ensure_model(PROJECT_ROOT / "models", quiet=True)
    with ExitStack() as stack, empty_database("postgresql", home) as db_url:
        store = Store.from_url(db_url)
        store.migrate()
        stack.callback(store.close)
        store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "K01", "集群网格")
        store.add_grid_worker("K01", "王网格", "+8613800138000", "zh")
        actions = stack.enter_context(ActionServer(Settings(home=home, database_url=db_url), port=free_port()))
        (home / "endpoints.yml").write_text(_endpoints(actions.url, tracker_db, lock_prefix))
        (home / "credentials.yml").write_text("rest:\n")
        names = ("a", "b")
        servers = [_rasa_server(stack, model, home / "endpoints.yml", home / f"rasa-{n}.log") for n in names]
        for name, url in zip(names, servers, strict=True):
            _wait_ready(url, home / f"rasa-{name}.log")
        yield {"store": store, "servers": servers}


def _texts(replies: list[Any]) -> list[str]:
    return [r.text for r in replies if r.text]


def test_two_servers_hold_one_conversation(cluster: dict[str, Any]) -> None:
    store: Store = cluster["store"]
    a_url, b_url = cluster["servers"]
    resident = store.add_resident("K01", "集群路1号", "两台服务器", "+8613911112222", 1970, "zh")
    sender = resident_sender_id(resident)

    async def talk() -> dict[str, Any]:
        # a burst waits in line for the lock: on a loaded machine the last answer can take longer than 30 s
        a, b = RemoteDialogue(a_url, timeout=120), RemoteDialogue(b_url, timeout=120)
        try:
            opened = _texts(await a.handle(sender, start_message("daily_health"), "rest"))
            temperature = _texts(await b.handle(sender, "三十六度八", "rest"))  # the other server goes on
            # five answers at once, spread over both servers: the lock store takes them one at a time
            burst = await asyncio.gather(*[(a if i % 2 else b).handle(sender, "没有", "rest") for i in range(5)])
            last = _texts(await a.handle(sender, "没有", "rest"))
            async with httpx.AsyncClient() as client:
                tracker = (await client.get(f"{b_url}/conversations/{sender}/tracker")).json()
            return {"opened": opened, "temperature": temperature, "burst": burst, "last": last, "tracker": tracker}
        finally:
            await a.aclose()
            await b.aclose()

    said = asyncio.run(talk())
    assert any("体温" in t for t in said["opened"])
    assert any("咳嗽" in t for t in said["temperature"])
    assert all(_texts(replies) for replies in said["burst"])  # every message of the burst was answered
    submission = store.latest_submission(resident)
    assert submission is not None and submission.status == "complete" and submission.risk_level == "low"
    assert submission.answers["temperature"].value == 36.8
    for key in ("cough", "sore_throat", "breathing", "taste_smell", "contact", "travel"):
        assert submission.answers[key].value == "no", key
    # the shared tracker holds every turn once, each user message followed by the bot's own turn
    events = said["tracker"]["events"]
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    assert len(users) == 8
    for here, following in zip(users, [*users[1:], len(events)], strict=True):
        assert any(e["event"] == "bot" for e in events[here:following]), "a turn was lost or interleaved"
