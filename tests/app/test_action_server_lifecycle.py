"""The action server child dies with its parent, and a start never talks to a process it did not start.

Issue 9, item 9: after ``kill -9`` of the app its child lived on (on all interfaces) and the restarted app reported
success against the stale one. Real processes, real signals, real sockets.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from gridreach.settings import Settings
from gridreach_app.action_server import ActionServer, ActionServerError, free_port
from gridreach_app.model import PROJECT_ROOT

PARENT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from gridreach.settings import Settings
    from gridreach_app.action_server import ActionServer
    server = ActionServer(Settings(home=Path(sys.argv[1]), database_url=sys.argv[2]), port=int(sys.argv[3])).start()
    print(json.dumps({"child": server.pid}), flush=True)
    time.sleep(600)
""")

# a parent that starts the server without PR_SET_PDEATHSIG: only the child's own watchdog can notice
BARE_PARENT = textwrap.dedent("""
    import json, os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-m", "dialogs.actions.serve", "--port", sys.argv[1],
                              "--parent-pid", str(os.getpid())])
    print(json.dumps({"child": child.pid}), flush=True)
    time.sleep(600)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()  # a zombie waiting for init to reap it is dead
    except FileNotFoundError:
        return False


def _gone_within(pid: int, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if not _alive(pid):
            return time.monotonic() - started
        time.sleep(0.1)
    return None


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "GRIDREACH_HOME": str(tmp_path),
            "GRIDREACH_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}", "GRIDREACH_ACTION_TOKEN": "t" * 32}


def _spawn(code: str, args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    parent = subprocess.Popen([sys.executable, "-c", code, *args], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    line = parent.stdout.readline()
    assert line, "the parent did not start its action server"
    return parent, int(json.loads(line)["child"])


def _wait_listening(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail("the action server never listened")


def test_the_child_dies_within_seconds_of_a_kill_9_of_the_app(tmp_path: Path, env: dict[str, str]) -> None:
    port = free_port()
    parent, child = _spawn(PARENT, [str(tmp_path), env["GRIDREACH_DATABASE_URL"], str(port)], env)
    assert _alive(child)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(timeout=10)
    took = _gone_within(child, 5)
    assert took is not None, "the action server outlived its parent"
    print(f"child gone {took:.2f}s after kill -9 of the parent (PR_SET_PDEATHSIG)")
    # and the port is free again for the next start
    with ActionServer(Settings(home=tmp_path, database_url=env["GRIDREACH_DATABASE_URL"]), port=port) as again:
        assert again.pid is not None


def test_the_childs_watchdog_stops_it_when_no_death_signal_was_set(env: dict[str, str]) -> None:
    port = free_port()
    parent, child = _spawn(BARE_PARENT, [str(port)], env)
    _wait_listening(port)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(timeout=10)
    took = _gone_within(child, 10)
    assert took is not None, "the watchdog did not stop the orphaned action server"
    print(f"orphan gone {took:.2f}s after kill -9 of a parent without PR_SET_PDEATHSIG (watchdog)")


@pytest.fixture
def stranger() -> Iterator[tuple[int, list[str]]]:
    """Some other HTTP server on a port, answering every GET /health with 200 like an action server would."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            data = b'{"status": "ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_a_start_on_a_busy_port_fails_clearly_and_talks_to_no_stranger(
        tmp_path: Path, stranger: tuple[int, list[str]]) -> None:
    port, seen = stranger
    server = ActionServer(Settings(home=tmp_path), port=port)
    started = time.monotonic()
    with pytest.raises(ActionServerError) as caught:
        server.start()
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert str(port) in message and "already in use" in message and "GRIDREACH_ACTION_PORT" in message
    assert seen == []  # the stranger was never asked anything
    assert server.pid is None


def test_a_stranger_that_answers_the_probe_is_not_taken_for_the_child(
        tmp_path: Path, stranger: tuple[int, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Even if the port looked free an instant before (a race), the nonce tells the stranger apart."""
    port, seen = stranger
    monkeypatch.setattr("gridreach_app.action_server.port_is_free", lambda host, port: True)
    server = ActionServer(Settings(home=tmp_path), port=port)
    with pytest.raises(ActionServerError) as caught:
        server.start()
    assert str(port) in str(caught.value)
    assert all(path == "/health" for path in seen)  # never a /webhook call with the token
    assert server.pid is None


def test_an_action_server_without_a_token_refuses_to_start(env: dict[str, str]) -> None:
    bare = {k: v for k, v in env.items() if k != "GRIDREACH_ACTION_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "dialogs.actions.serve", "--port", str(free_port())],
                          cwd=PROJECT_ROOT, env=bare, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "GRIDREACH_ACTION_TOKEN" in done.stderr and "openssl rand" in done.stderr
    short = subprocess.run([sys.executable, "-m", "dialogs.actions.serve", "--port", str(free_port())],
                           cwd=PROJECT_ROOT, env={**bare, "GRIDREACH_ACTION_TOKEN": "short"}, capture_output=True,
                           text=True, timeout=120)
    assert short.returncode == 2 and "GRIDREACH_ACTION_TOKEN" in short.stderr


def test_tokens_never_appear_in_the_settings_repr() -> None:
    settings = Settings.from_env({"GRIDREACH_ACTION_TOKEN": "a" * 20 + "SECRET", "GRIDREACH_RASA_TOKEN": "b" * 24})
    assert settings.action_token == "a" * 20 + "SECRET"
    assert "SECRET" not in repr(settings) and "b" * 24 not in repr(settings)


def test_the_rest_channel_refuses_a_missing_or_unexpanded_token() -> None:
    from dialogs.channel import TokenRestInput
    from gridreach.errors import ConfigError

    for credentials in (None, {}, {"token": "${GRIDREACH_RASA_TOKEN}"}, {"token": "short"}):
        with pytest.raises(ConfigError, match="GRIDREACH_RASA_TOKEN"):
            TokenRestInput.from_credentials(credentials)
    assert TokenRestInput.from_credentials({"token": "x" * 32}).name() == "gridreach"
