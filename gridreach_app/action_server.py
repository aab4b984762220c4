"""Run the rasa_sdk action server (``dialogs.actions``) as a child process for the embedded default."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from gridreach.errors import GridReachError
from gridreach.settings import Settings
from gridreach_app.model import PROJECT_ROOT

__all__ = ["ActionServer", "free_port"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ActionServer:
    """``rasa run actions`` for GridReach, on 127.0.0.1, with its log under ``<home>/logs``."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        self.settings = settings
        self.port = port if port is not None else settings.action_server_port
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path = settings.home / "logs" / f"action-server-{self.port}.log"

    @property
    def url(self) -> str:
        """The webhook URL Rasa calls (``endpoints.yml``'s ``action_endpoint``)."""
        return f"http://127.0.0.1:{self.port}/webhook"

    def start(self, timeout: float = 120.0) -> ActionServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "GRIDREACH_DATABASE_URL": self.settings.database_url,
            "GRIDREACH_HOME": str(self.settings.home),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
        cmd = [sys.executable, "-m", "rasa_sdk", "--actions", "dialogs.actions", "--port", str(self.port)]
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise GridReachError(f"the action server exited at start; see {self.log_path}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise GridReachError(f"the action server did not answer within {timeout:.0f}s; see {self.log_path}")

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
