"""Run the GridReach action server (``dialogs.actions.serve``) as a child process for the embedded default.

The child listens on ``settings.action_server_host`` (127.0.0.1 by default) and answers only calls carrying the
token: ``settings.action_token``, or one made for this run of the app (one per process). It dies with its parent: ``PR_SET_PDEATHSIG`` on Linux,
and a watchdog in the child that stops it when the parent's pid is gone, whatever signal killed the parent.
A start refuses a busy port (naming it and what to do) and checks, with a per-start nonce, that what answers on the
port is the child it just started, never a stale one left by a killed run.

``PR_SET_PDEATHSIG`` fires when the *thread* that started the child ends, so start it from a thread that lives as
long as the app (the main thread, or the event loop's), never from a short-lived worker thread.
"""

from __future__ import annotations

import ctypes
import functools
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from gridreach.errors import GridReachError
from gridreach.settings import Settings
from gridreach_app.model import PROJECT_ROOT

__all__ = ["ActionServer", "ActionServerError", "free_port", "port_is_free"]

_PR_SET_PDEATHSIG = 1


class ActionServerError(GridReachError):
    """The action server could not be started (or something else holds its port)."""


def _any_address(host: str) -> bool:
    try:
        return not host or ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port`` (binding as the server will, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


@functools.lru_cache(maxsize=1)
def _run_token() -> str:
    """One token per app process: an action server restarted by the same process keeps working with its agent."""
    return secrets.token_urlsafe(32)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the child's parent watchdog still stops it
        pass


class ActionServer:
    """The action server child, on 127.0.0.1, with its log under ``<home>/logs``."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        self.settings = settings
        self.host = settings.action_server_host
        self.port = port if port is not None else settings.action_server_port
        self.token = settings.action_token or _run_token()
        self._instance = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path = settings.home / "logs" / f"action-server-{self.port}.log"

    @property
    def base(self) -> str:
        host = "127.0.0.1" if _any_address(self.host) else self.host  # listening everywhere: reach it on loopback
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The webhook URL Rasa calls, with the token as Rasa's ``action_endpoint: token:`` sends it."""
        return f"{self.base}/webhook?token={self.token}"

    def endpoint(self) -> dict[str, Any]:
        """``endpoints.yml``'s ``action_endpoint`` for this server."""
        return {"url": f"{self.base}/webhook", "token": self.token}

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self, timeout: float = 120.0) -> ActionServer:
        if not port_is_free(self.host, self.port):
            raise ActionServerError(
                f"port {self.port} on {self.host} is already in use, perhaps by an action server left by a killed "
                f"run: stop that process (`ss -ltnp 'sport = :{self.port}'` names it) or set GRIDREACH_ACTION_PORT "
                f"to a free port")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._instance = secrets.token_hex(16)
        env = {
            **os.environ,
            "GRIDREACH_DATABASE_URL": self.settings.database_url,
            "GRIDREACH_HOME": str(self.settings.home),
            "GRIDREACH_ACTION_TOKEN": self.token,
            "GRIDREACH_ACTION_INSTANCE": self._instance,
            "GRIDREACH_LOG_LEVEL": self.settings.log_level,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
        cmd = [sys.executable, "-m", "dialogs.actions.serve", "--host", self.host, "--port", str(self.port),
               "--parent-pid", str(os.getpid())]
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self._proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=fd, stderr=subprocess.STDOUT,
                                          preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        finally:
            os.close(fd)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {self.token}"}
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ActionServerError(f"the action server on {self.host}:{self.port} exited at start (status "
                                        f"{self._proc.returncode}); see {self.log_path}")
            try:
                answer = httpx.get(f"{self.base}/health", headers=headers, timeout=1.0)
            except httpx.HTTPError:
                time.sleep(0.2)
                continue
            try:
                instance = answer.json().get("instance") if answer.status_code == 200 else None
            except (ValueError, AttributeError):
                instance = None
            if instance == self._instance:
                return
            raise ActionServerError(
                f"something else answers on {self.host}:{self.port} (not the action server this run started): stop "
                f"it (`ss -ltnp 'sport = :{self.port}'` names it) or set GRIDREACH_ACTION_PORT to a free port")
        raise ActionServerError(f"the action server did not answer within {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def __enter__(self) -> ActionServer:
        return self.start() if self._proc is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
