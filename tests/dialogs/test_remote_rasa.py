"""The remote dialogue against a real `rasa run --enable-api` server sharing the action server, set up as
production runs it (issue 9, item 2): the HTTP API behind ``--auth-token``, the project's ``credentials.yml``
(GridReach's token-checked REST channel, Rasa's open ``rest`` off) and an ``endpoints.yml`` whose action endpoint
carries the action server's token from the environment."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from gridreach_app.action_server import free_port
from gridreach_app.dialogue import RemoteDialogue, split_token, start_message
from gridreach_app.model import PROJECT_ROOT
from gridreach_app.runtime import rasa_run_command
from tests.dialogs.conftest import Stack

RASA_TOKEN = "rasa-token-for-tests-0123456789"


@dataclass
class RasaServer:
    url: str
    token: str


@pytest.fixture(scope="module")
def rasa_server(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    home = tmp_path_factory.mktemp("rasa")
    action_url, action_token = split_token(stack.action_url)
    (home / "endpoints.yml").write_text(
        f'action_endpoint:\n  url: "{action_url}"\n  token: ${{GRIDREACH_ACTION_TOKEN}}\n')
    shutil.copy(PROJECT_ROOT / "credentials.yml", home / "credentials.yml")
    port = free_port()
    log_path = home / "rasa.log"
    log = log_path.open("wb")
    cmd = rasa_run_command(stack.model_path, port, endpoints=home / "endpoints.yml",
                           credentials=home / "credentials.yml", auth_token=RASA_TOKEN)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false",
           "GRIDREACH_RASA_TOKEN": RASA_TOKEN, "GRIDREACH_ACTION_TOKEN": action_token or ""}
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/status?token={RASA_TOKEN}", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("rasa run did not start in time: " + log_path.read_text()[-3000:])
        yield RasaServer(url, RASA_TOKEN)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _talk(server: RasaServer, sender: str, turns: list[tuple[str, dict[str, object]]]) -> list[list[str]]:
    async def talk() -> list[list[str]]:
        remote = RemoteDialogue(server.url, token=server.token)
        try:
            said = []
            for text, meta in turns:
                said.append([r.text for r in await remote.handle(sender, text, "telegram", meta) if r.text])
            return said
        finally:
            await remote.aclose()

    return asyncio.run(talk())


def test_a_screening_through_a_remote_rasa_server(stack: Stack, rasa_server: RasaServer) -> None:
    sender = stack.fresh("远程服务器", "en")
    turns: list[tuple[str, dict[str, object]]] = [(start_message("daily_health"), {}), ("36.9", {}),
                                                  ("2", {"keypad": True})]
    turns += [("no", {})] * 5
    said = _talk(rasa_server, sender, turns)
    assert any("temperature" in t.lower() for t in said[0])
    sub = stack.store.latest_submission(stack.residents["远程服务器"])
    assert sub is not None and sub.status == "complete" and sub.risk_level == "low"
    assert sub.answers["temperature"].value == 36.9
    assert sub.answers["cough"].value == "no"  # the keypad press counted: the channel is authenticated
    assert sub.channel == "telegram"  # the connector's channel, believed from the authenticated channel
    assert any("Thank you" in t for t in said[-1])


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/conversations/{sender}/tracker", None),
    ("POST", "/conversations/{sender}/tracker/events", {"event": "slot", "name": "submission_id", "value": 1}),
    ("PUT", "/conversations/{sender}/tracker/events", [{"event": "slot", "name": "resident_id", "value": 1}]),
    ("POST", "/conversations/{sender}/messages", {"text": "36.7", "sender": "user"}),
    ("POST", "/conversations/{sender}/trigger_intent", {"name": "start_questionnaire"}),
    ("PUT", "/model", {"model_file": "/tmp/other.tar.gz"}),
    ("DELETE", "/model", None),
    ("GET", "/status", None),
])
def test_rasas_http_api_refuses_callers_without_the_token(
        stack: Stack, rasa_server: RasaServer, method: str, path: str, body: object) -> None:
    sender = stack.fresh(f"API {method} {path}")
    url = rasa_server.url + path.format(sender=sender)
    for params in ({}, {"token": "wrong-token-wrong-token"}):
        answer = httpx.request(method, url, json=body, params=params, timeout=30)
        assert answer.status_code in (401, 403), (answer.status_code, answer.text[:200])
    tracker = httpx.get(f"{rasa_server.url}/conversations/{sender}/tracker", params={"token": rasa_server.token},
                        timeout=30)
    assert tracker.status_code == 200
    assert tracker.json()["slots"].get("submission_id") is None  # nothing was injected
    assert httpx.get(f"{rasa_server.url}/status", params={"token": rasa_server.token}, timeout=30).status_code == 200


def test_rasas_open_rest_channel_is_off_and_ours_wants_the_token(stack: Stack, rasa_server: RasaServer) -> None:
    sender = stack.fresh("REST 陌生人")
    message = {"sender": sender, "message": "/start_questionnaire", "metadata": {"keypad": True}}
    assert httpx.post(f"{rasa_server.url}/webhooks/rest/webhook", json=message, timeout=30).status_code == 404
    ours = f"{rasa_server.url}/webhooks/gridreach/webhook"
    assert httpx.post(ours, json=message, timeout=30).status_code == 401
    assert httpx.post(ours, json=message, headers={"Authorization": "Bearer wrong-token-wrong-token"},
                      timeout=30).status_code == 401
    assert httpx.post(ours, content=b"x" * (300 * 1024), headers={"Authorization": f"Bearer {RASA_TOKEN}"},
                      timeout=30).status_code == 413
    assert httpx.post(ours, content=b"not json", headers={"Authorization": f"Bearer {RASA_TOKEN}"},
                      timeout=30).status_code == 400
    assert stack.store.latest_submission(stack.residents["REST 陌生人"]) is None


def test_remote_dialogue_with_a_wrong_token_says_what_to_do(rasa_server: RasaServer) -> None:
    from gridreach.dialogue import DialogueError

    async def talk() -> None:
        remote = RemoteDialogue(rasa_server.url, token="wrong-token-wrong-token")
        try:
            await remote.handle("resident-1", "hello", "telegram")
        finally:
            await remote.aclose()

    with pytest.raises(DialogueError, match="GRIDREACH_RASA_TOKEN"):
        asyncio.run(talk())
