"""The GridReach action server: rasa_sdk's executor behind a door that checks who knocks.

``python -m dialogs.actions.serve [--host 127.0.0.1] [--port 5055]`` replaces ``rasa run actions`` (which listens on
every interface, has no host option and no authentication, and whose 500 replies echo the whole request). Here:

* it binds ``GRIDREACH_ACTION_HOST`` (default 127.0.0.1) and refuses to start without ``GRIDREACH_ACTION_TOKEN``;
* ``POST /webhook`` checks the token (``Authorization: Bearer <token>`` or ``?token=``, which is what Rasa's
  ``action_endpoint: token:`` sends) in constant time before a byte of the body is read; a wrong or missing one is
  401, a body over ``MAX_BODY`` is 413, a body that is not JSON is 400;
* the call's slots are checked against its sender (``dialogs.actions.guard``): a refused call is 403;
* actions (which call the database) run in worker threads, never on the serving loop;
* a failing action is logged by type and frames, never by value, and answered with a fixed 500 message;
* ``GET /health`` answers everyone ``{"status": "ok"}`` and, with the token, also the ``instance`` nonce its
  starter gave it (``GRIDREACH_ACTION_INSTANCE``), so that a starter knows it talks to its own child;
* with ``--parent-pid`` it stops when that process is gone (the fallback to ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Sequence
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from dialogs import redact
from dialogs.http_auth import has_token, read_capped
from gridreach.errors import ConfigError
from gridreach.settings import Settings

__all__ = ["MAX_BODY", "build_app", "main"]

log = logging.getLogger(__name__)
MAX_BODY = 16 * 1024 * 1024  # a whole tracker travels with each call; a long conversation is well below this
FAILED = "the action failed; the action server's log names the error (never its data)"


def _run(executor: Any, call: dict[str, Any]) -> Any:
    return asyncio.run(executor.run(call))


def _failure(action: str, exc: BaseException) -> None:
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("action %s failed with %s\n%s", action, type(exc).__name__, frames)


def build_app(token: str, instance: str = "", actions: str = "dialogs.actions", max_body: int = MAX_BODY) -> Sanic:
    """The Sanic app; ``token`` must be set (an action server without one is never built)."""
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
    from rasa_sdk.utils import check_version_compatibility

    from dialogs.actions.guard import refusal

    if not token:
        raise ConfigError("GRIDREACH_ACTION_TOKEN", "is required: the action server refuses unauthenticated calls")
    app = Sanic(f"gridreach_actions_{os.getpid()}_{id(token)}", configure_logging=False)
    app.config.MOTD = False
    executor = ActionExecutor()
    executor.register_package(actions)

    def denied() -> HTTPResponse:
        return response.json({"error": "unauthorised: send the action token (GRIDREACH_ACTION_TOKEN)"}, status=401)

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        body = {"status": "ok"}
        if instance and has_token(request, token):
            body["instance"] = instance
        return response.json(body)

    @app.get("/actions")
    async def list_actions(request: Request) -> HTTPResponse:
        if not has_token(request, token):
            return denied()
        return response.json([{"name": name} for name in executor.actions])

    @app.post("/webhook", stream=True)
    async def webhook(request: Request) -> HTTPResponse:
        if not has_token(request, token):
            return denied()
        raw = await read_capped(request, max_body)
        if raw is None:
            return response.json({"error": f"the action call is larger than {max_body} bytes"}, status=413)
        try:
            if request.headers.get("content-encoding") == "deflate":
                inflater = zlib.decompressobj()
                raw = inflater.decompress(raw, max_body)
                if inflater.unconsumed_tail:
                    return response.json({"error": f"the action call is larger than {max_body} bytes"}, status=413)
            call = json.loads(raw)
        except (ValueError, zlib.error):
            return response.json({"error": "the action call is not JSON"}, status=400)
        if not isinstance(call, dict):
            return response.json({"error": "the action call is not a JSON object"}, status=400)
        name = str(call.get("next_action") or "")
        check_version_compatibility(call.get("version"))
        why = await asyncio.to_thread(refusal, call)
        if why is not None:
            log.warning("refused %s: %s", name, why)
            return response.json({"error": f"refused: {why}", "action_name": name}, status=403)
        try:
            # the actions call the database: in a worker thread (with its own loop), never on this serving loop
            result = await asyncio.to_thread(_run, executor, call)
        except ActionExecutionRejection as exc:
            return response.json({"error": "the action rejected the slot", "action_name": exc.action_name},
                                 status=400)
        except ActionNotFoundException as exc:
            log.error("no action named %s", exc.action_name)
            return response.json({"error": "no such action", "action_name": exc.action_name}, status=404)
        except Exception as exc:  # any action's failure: a fixed answer; its type and frames go to the log
            _failure(name, exc)
            return response.json({"error": FAILED, "action_name": name}, status=500)
        return response.json(result)

    @app.exception(Exception)
    async def any_error(request: Request, exc: Exception) -> HTTPResponse:
        status = int(getattr(exc, "status_code", 500) or 500)
        if status >= 500:
            _failure(request.path, exc)
        return response.json({"error": FAILED if status >= 500 else "bad request"}, status=status)

    return app


def _watch_parent(parent: int, every: float = 1.0) -> None:
    """Stop this server when ``parent`` is gone (re-parented to init or a subreaper)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        log.warning("the parent process %d is gone; stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        os._exit(1)  # the graceful stop did not finish

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def configure_logging(level: str) -> None:
    """stdout at ``level``, every record scrubbed (``dialogs.redact``)."""
    redact.install()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("sanic.root", "sanic.error", "sanic.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dialogs.actions.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=None, help="default GRIDREACH_ACTION_HOST or 127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default GRIDREACH_ACTION_PORT or 5055")
    parser.add_argument("--parent-pid", type=int, default=None, help="stop when this process is gone")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if not settings.action_token:
            raise ConfigError("GRIDREACH_ACTION_TOKEN", "is required: the action server refuses unauthenticated "
                                                        "calls (make one: openssl rand -hex 32; give Rasa the same "
                                                        "in endpoints.yml)")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.parent_pid is not None:
        if os.getppid() != args.parent_pid:  # the parent died before we got here
            return 1
        _watch_parent(args.parent_pid)
    host = args.host or settings.action_server_host
    port = args.port if args.port is not None else settings.action_server_port
    app = build_app(settings.action_token, os.environ.get("GRIDREACH_ACTION_INSTANCE", ""))
    log.info("action server on %s:%d", host, port)
    try:
        app.run(host=host, port=port, workers=1, access_log=False, motd=False)
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port} ({exc.strerror}); is another action server running there? "
              f"Stop it or choose another GRIDREACH_ACTION_PORT", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
