"""`gridreach serve`: every configured channel in one process, around one dialogue.

Each registered connector (``gridreach_app.connectors``) that is configured is started (``Connector.start``): its
routes go on the one web server, its outbox drains run every ``outbox_interval`` seconds, its closers run at the
end, its status line is printed. The built-in ones:

What runs: the runtime (``open_runtime``: the resident database, the Rasa agent and its action server child, or
with ``remote`` GridReach's token-checked REST channel at ``GRIDREACH_RASA_URL``), its dialogue wrapped in ``OnceOnly``; a Sanic web
server on ``host:port`` with the Telegram webhook (``/webhooks/telegram_gridreach/webhook``; in polling mode the bot
polls instead) and the WeChat Official Account callback (``/webhooks/wechat/webhook``), the same paths as under
``rasa run``; the voice webhooks (aiohttp, on ``GRIDREACH_VOICE_PORT``) when Twilio is configured; and background
loops draining the outboxes: the Telegram sender (paced to Telegram's limits), WeChat customer-service messages,
WeCom group robots and app chats (20 a minute per group). ``GET /health`` says which channels are on.

SIGINT or SIGTERM stops it cleanly: the loops finish what they are sending, the web servers close, the clients
are closed and the action server child is stopped; the exit status is 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from gridreach.connector import Serving, Started
from gridreach.errors import ConfigError, GridReachError
from gridreach.settings import Settings
from gridreach_app import web
from gridreach_app.channels_config import ChannelsConfig
from gridreach_app.runtime import Runtime, open_runtime

__all__ = ["remote_settings", "serve"]

log = logging.getLogger(__name__)
Say = Callable[[str], None]


def _say(line: str) -> None:
    print(line, flush=True)


def remote_settings(settings: Settings) -> Settings:
    """``--remote``: the dialogue is GridReach's REST channel (token ``GRIDREACH_RASA_TOKEN``) at ``GRIDREACH_RASA_URL``."""
    if not settings.rasa_url:
        raise ConfigError("GRIDREACH_RASA_URL", "is required for --remote (the Rasa server or load balancer)")
    return settings.replace(dialogue_mode="remote")


def _bind(host: str, port: int) -> socket.socket:
    try:
        return web.bind(host, port)
    except OSError as exc:
        raise ConfigError("--host/--port", f"cannot listen on {host}:{port} ({exc.strerror})") from None


@dataclass
class _Parts:
    """What `serve` started, so that it can stop it in order."""

    lines: list[str] = field(default_factory=list)
    loops: list[asyncio.Task[None]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    routes: list[tuple[Any, str]] = field(default_factory=list)

    def add(self, name: str, started: Started, stop: asyncio.Event, interval: float) -> None:
        self.lines.append(f"{name:9} on   {started.status}")
        self.routes += started.routes
        self.closers += started.closers
        self.loops += [asyncio.ensure_future(_every(what, interval, work, stop)) for what, work in started.loops]


async def _every(name: str, seconds: float, work: Callable[[], Awaitable[Any]], stop: asyncio.Event) -> None:
    """Run ``work`` every ``seconds`` until ``stop``; a failure is logged (its type, never a message) and retried."""
    while not stop.is_set():
        try:
            await work()
        except GridReachError as exc:
            log.warning("%s: %s", name, type(exc).__name__)
        except Exception as exc:  # the loop must outlive any one failure; it is logged, not swallowed
            log.error("%s failed: %s", name, type(exc).__name__)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)


class _NoProductionNag(logging.Filter):
    """Sanic warns on a terminal that it runs in production mode; for `serve` that is the point."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "PRODUCTION mode" not in record.getMessage()


def _app(parts: _Parts, on: list[str]) -> Sanic:
    logging.getLogger("sanic.error").addFilter(_NoProductionNag())
    app = web.new_app(routes=parts.routes, name="gridreach_serve")  # `serve` says itself what is on and where

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok", "channels": on})

    return app


def _watch_signals(stop: asyncio.Event) -> list[signal.Signals]:
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests), or Windows
            pass
    return installed


async def serve(settings: Settings, channels: ChannelsConfig, *, remote: bool = False,
                stop: asyncio.Event | None = None, outbox_interval: float = 2.0, say: Say = _say) -> int:
    """Run until ``stop`` is set (or SIGINT / SIGTERM); returns the exit status."""
    if not channels.on:
        raise ConfigError("channels", "none is configured: set GRIDREACH_TELEGRAM_TOKEN, GRIDREACH_WECHAT_APP_ID, "
                                      "GRIDREACH_WECOM_ROBOTS or the Twilio variables, or pass --channels FILE "
                                      "(docs/OPERATIONS.md, Channels)")
    if remote:
        settings = remote_settings(settings)
    if settings.dialogue_mode == "remote" and not settings.rasa_token:
        say("warning: GRIDREACH_RASA_TOKEN is not set, so Rasa is reached through its open REST channel and the "
            "actions ignore the connectors' metadata (keypad, message ids); set it to the token of "
            "dialogs.channel.TokenRestInput in Rasa's credentials.yml")
    stop = stop or asyncio.Event()
    sock = _bind(channels.host, channels.port)
    host, port = sock.getsockname()[:2]
    base = f"http://{host}:{port}"
    signals = _watch_signals(stop)
    try:
        say(f"GridReach serve: loading the dialogue ({settings.dialogue_mode})...")
        async with open_runtime(settings) as rt:
            if not stop.is_set():  # a signal while the model was loading: stop at once
                await _run(rt, channels, sock, base, stop, outbox_interval, say)
    finally:
        sock.close()
        for sig in signals:
            asyncio.get_running_loop().remove_signal_handler(sig)
    say("GridReach serve stopped.")
    return 0


async def _run(rt: Runtime, channels: ChannelsConfig, sock: socket.socket, base: str, stop: asyncio.Event,
               interval: float, say: Say) -> None:
    parts = _Parts()
    serving = Serving(rt.store, rt.dialogue, rt.settings, base)
    try:
        for connector in channels.connectors:
            settings = channels.settings.get(connector.name)
            if settings is not None:
                parts.add(connector.name, await connector.start(serving, settings), stop, interval)
        served = await web.start(_app(parts, channels.on), sock)
        try:
            for line in parts.lines:
                say("  " + line)
            if channels.off:
                say(f"  off: {', '.join(channels.off)} (not configured)")
            say(f"Serving on {base} (health: {base}/health). Stop with Ctrl-C or SIGTERM.")
            await stop.wait()
            say("Stopping...")
        finally:
            await served.stop()
    finally:
        stop.set()
        await _finish(parts)


async def _finish(parts: _Parts, grace: float = 10.0) -> None:
    if parts.loops:
        _, pending = await asyncio.wait(parts.loops, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    for close in reversed(parts.closers):
        try:
            await close()
        except GridReachError as exc:
            log.warning("while stopping: %s", type(exc).__name__)

