"""The remote dialogue against a real `rasa run --enable-api` server sharing the action server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gridreach_app.action_server import free_port
from gridreach_app.dialogue import RemoteDialogue, start_message
from gridreach_app.model import PROJECT_ROOT
from tests.dialogs.conftest import Stack


@pytest.fixture
def rasa_server(stack: Stack, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    (tmp_path / "endpoints.yml").write_text(f'action_endpoint:\n  url: "{stack.action_url}"\n')
    (tmp_path / "credentials.yml").write_text("rest:\n")
    log = (tmp_path / "rasa.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--enable-api", "-m", str(stack.model_path), "--port", str(port),
         "-i", "127.0.0.1", "--endpoints", str(tmp_path / "endpoints.yml"),
         "--credentials", str(tmp_path / "credentials.yml")],
        cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "rasa.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/status", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("rasa run did not start in time: " + (tmp_path / "rasa.log").read_text()[-3000:])
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_a_screening_through_a_remote_rasa_server(stack: Stack, rasa_server: str) -> None:
    sender = stack.fresh("远程服务器", "en")

    async def talk() -> list[list[str]]:
        remote = RemoteDialogue(rasa_server)
        try:
            said = []
            for text in [start_message("daily_health"), "36.9", "no", "no", "no", "no", "no", "no"]:
                said.append([r.text for r in await remote.handle(sender, text, "rest") if r.text])
            return said
        finally:
            await remote.aclose()

    said = asyncio.run(talk())
    assert any("temperature" in t.lower() for t in said[0])
    sub = stack.store.latest_submission(stack.residents["远程服务器"])
    assert sub is not None and sub.status == "complete" and sub.risk_level == "low"
    assert sub.answers["temperature"].value == 36.9
    assert any("Thank you" in t for t in said[-1])
