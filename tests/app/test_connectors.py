"""Channels are connectors: each settings module imports without Rasa; the registry lists the built-in ones in
order; a toy echo connector (tests/app/echo_connector.py, one module) registered through the public API, or named
by module path in the channels file, is run by `gridreach serve`: a real HTTP request on 127.0.0.1 reaches the
dialogue and the echo comes back."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sanic import Sanic

from gridreach.connector import Connector
from gridreach.errors import ConfigError
from gridreach.settings import Settings
from gridreach_app.channels_config import load_channels
from gridreach_app.connectors import connectors, register, unregister
from gridreach_app.model import PROJECT_ROOT
from gridreach_app.serve import serve
from tests.app.echo_connector import EchoConnector
from tests.app.test_serve import FakeRasa, _wait_line, _wait_ready

Sanic.test_mode = True  # more than one app in this process (Sanic touches its protocol up once per app)

SETTINGS_MODULES = ["bots.telegram.config", "bots.wechat.config", "voice_caller.config", "bots.telegram.connector",
                    "bots.wechat.connector", "voice_caller.connector", "gridreach_app.connectors",
                    "gridreach_app.channels_config", "tests.app.echo_connector"]


@pytest.mark.parametrize("module", SETTINGS_MODULES)
def test_a_connectors_settings_import_without_rasa_or_a_vendor_library(module: str) -> None:
    """Nor the vendors' client libraries: `gridreach notice` loads every connector to ask it about groups."""
    code = (f"import sys, {module}; heavy = ('rasa', 'telegram', 'wechatpy', 'twilio', 'vosk', 'sanic'); "
            "found = sorted(m for m in sys.modules if m.split('.')[0] in heavy); assert not found, found")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_built_in_connectors_in_order_each_one_protocol() -> None:
    found = connectors(environ={})
    assert [c.name for c in found] == ["telegram", "wechat", "wecom", "voice"]
    assert all(isinstance(c, Connector) for c in found)
    assert load_channels({}, None).off == ["telegram", "wechat", "wecom", "voice"]


def test_a_registered_connector_reads_its_own_settings_and_is_refused_twice() -> None:
    echo = register(EchoConnector)
    try:
        config = load_channels({"GRIDREACH_ECHO_PREFIX": "echo:"}, None)
        assert config.on == ["echo"] and config.echo.prefix == "echo:"  # type: ignore[attr-defined]
        assert config.telegram is None
        with pytest.raises(ConfigError):
            register(EchoConnector)
    finally:
        unregister(echo)
    assert "echo" not in [c.name for c in connectors(environ={})]


def test_a_module_path_section_of_the_channels_file_loads_its_connector(tmp_path: Path) -> None:
    path = tmp_path / "channels.yml"
    path.write_text("tests.app.echo_connector:\n  prefix: 'echo: '\n  prefx: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_channels({}, path)
    assert caught.value.key == "channels.yml: echo.prefx"
    path.write_text("tests.app.no_such_connector:\n  prefix: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_channels({}, path)
    assert caught.value.key == "channels.yml: tests.app.no_such_connector"


async def test_serve_runs_a_registered_echo_connector(db_url: str, tmp_path: Path) -> None:
    echo = register(EchoConnector)
    rasa = FakeRasa()
    lines: list[str] = []
    stop = asyncio.Event()
    try:
        settings = Settings(home=tmp_path, database_url=db_url, rasa_url=rasa.url)
        channels = load_channels({"GRIDREACH_ECHO_PREFIX": "echo:", "GRIDREACH_SERVE_PORT": "0"}, None, tmp_path)
        task = asyncio.ensure_future(serve(settings, channels, remote=True, stop=stop, say=lines.append))
        for _ in range(600):
            if any(line.startswith("Serving on ") for line in lines) or task.done():
                break
            await asyncio.sleep(0.1)
        url = next(line for line in lines if line.startswith("Serving on ")).split()[2]
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{url}/webhooks/echo/webhook", json={"sender": "7", "text": "你好"})
            health = await client.get(f"{url}/health")
        assert answer.json() == {"replies": ["echo:远程回答：你好"]}
        assert health.json()["channels"] == ["echo"]
        assert f"  echo      on   echo on {url}/webhooks/echo/webhook" in lines
        (body,) = rasa.received
        assert body["sender"] == "echo:7" and body["message"] == "你好"
        stop.set()
        assert await asyncio.wait_for(task, 60) == 0
    finally:
        stop.set()
        unregister(echo)
        rasa.close()


def test_gridreach_serve_runs_the_echo_connector_named_in_the_channels_file(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "channels.yml"
    path.write_text("rest:\ntests.app.echo_connector:\n  prefix: '${ECHO_PREFIX}'\n", encoding="utf-8")
    rasa = FakeRasa()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDREACH_", "TELEGRAM_", "TWILIO_"))}
    env.update({"GRIDREACH_HOME": str(tmp_path), "GRIDREACH_DATABASE_URL": db_url, "PYTHONPATH": str(PROJECT_ROOT),
                "GRIDREACH_RASA_URL": rasa.url, "ECHO_PREFIX": "回声：", "PYTHONUNBUFFERED": "1",
                "RASA_TELEMETRY_ENABLED": "false"})
    cmd = [sys.executable, "-m", "gridreach_app.cli", "serve", "--remote", "--port", "0", "--channels", str(path)]
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    output: list[str] = []
    try:
        url = _wait_ready(proc, output, timeout=120)
        assert url.startswith("http://127.0.0.1:")
        answer = httpx.post(f"{url}/webhooks/echo/webhook", json={"sender": "8", "text": "在吗"}, timeout=30)
        assert answer.json() == {"replies": ["回声：远程回答：在吗"]}
        assert any("off: telegram, wechat, wecom, voice (not configured)" in line for line in output)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        rasa.close()
    _wait_line(output, "GridReach serve stopped.")
