"""`gridreach serve`: every configured channel in one process, around one dialogue.

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
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from gridreach.errors import ConfigError, GridReachError
from gridreach.settings import Settings
from gridreach_app.channels_config import ChannelsConfig
from gridreach_app.runtime import Runtime, open_runtime

__all__ = ["TELEGRAM_PATH", "WECHAT_PATH", "remote_settings", "serve"]

log = logging.getLogger(__name__)
TELEGRAM_PATH = "/webhooks/telegram_gridreach"
WECHAT_PATH = "/webhooks/wechat"
Say = Callable[[str], None]


def _say(line: str) -> None:
    print(line, flush=True)


def remote_settings(settings: Settings) -> Settings:
    """``--remote``: the dialogue is GridReach's REST channel (token ``GRIDREACH_RASA_TOKEN``) at ``GRIDREACH_RASA_URL``."""
    if not settings.rasa_url:
        raise ConfigError("GRIDREACH_RASA_URL", "is required for --remote (the Rasa server or load balancer)")
    return settings.replace(dialogue_mode="remote")


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError("--host/--port", f"cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.set_inheritable(False)
    return sock


@dataclass
class _Parts:
    """What `serve` started, so that it can stop it in order."""

    lines: list[str] = field(default_factory=list)
    loops: list[asyncio.Task[None]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    blueprints: list[tuple[Any, str]] = field(default_factory=list)


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


def _telegram(rt: Runtime, channels: ChannelsConfig, parts: _Parts, base: str) -> None:
    from bots.telegram.channel import webhook_blueprint
    from bots.telegram.runtime import TelegramRuntime

    settings = channels.telegram
    assert settings is not None
    runtime = TelegramRuntime(settings, rt.store, rt.dialogue)
    parts.blueprints.append((webhook_blueprint(runtime), TELEGRAM_PATH))  # its listeners start and stop the bot
    if settings.mode == "polling":
        parts.lines.append(f"telegram  on   polling getUpdates as @{settings.bot_username}")
    else:
        hook = f"setWebhook {settings.webhook_url}" if settings.webhook_url else "webhook not registered by us"
        parts.lines.append(f"telegram  on   webhook {base}{TELEGRAM_PATH}/webhook ({hook})")


def _wechat(rt: Runtime, channels: ChannelsConfig, parts: _Parts, base: str, stop: asyncio.Event,
            interval: float) -> None:
    from bots.wechat.channel import OfficialAccount

    settings = channels.wechat
    assert settings is not None
    account = OfficialAccount.build(rt.store, rt.dialogue, settings, production=rt.settings.production)
    parts.blueprints.append((account.blueprint("wechat_webhook"), WECHAT_PATH))
    parts.loops.append(asyncio.ensure_future(_every("wechat service messages", interval, account.service.drain,
                                                    stop)))
    parts.closers.append(account.bot.turns.settle)  # late replies still become customer-service messages
    mode = "safe mode" if settings.safe_mode else "plaintext"
    parts.lines.append(f"wechat    on   callback {base}{WECHAT_PATH}/webhook ({mode}, {settings.app_id})")


def _wecom(rt: Runtime, channels: ChannelsConfig, parts: _Parts, stop: asyncio.Event, interval: float) -> None:
    from bots.wechat.wecom import WeComAppChat, WeComRobot

    settings = channels.wecom
    assert settings is not None
    notifiers: list[Any] = [WeComRobot(rt.store, settings)]
    if settings.corp_id:
        notifiers.append(WeComAppChat(rt.store, settings))
    for notifier in notifiers:
        parts.loops.append(asyncio.ensure_future(_every(f"{notifier.channel} outbox", interval, notifier.drain,
                                                        stop)))
    chats = "app chats on" if settings.corp_id else "app chats off (no corp_id)"
    parts.lines.append(f"wecom     on   {len(settings.robots)} group robot(s) configured, {chats}")


async def _voice(rt: Runtime, channels: ChannelsConfig, parts: _Parts) -> None:
    from voice_caller.asr import SpeechModels
    from voice_caller.call import speech_listeners
    from voice_caller.server import VoiceServer
    from voice_caller.tts import Speaker
    from voice_caller.twilio_api import TwilioTelephony

    settings = channels.voice
    assert settings is not None
    speaker = Speaker(settings.tts_cache_dir)
    server = VoiceServer(settings, rt.store, dialogue=rt.dialogue, speaker=speaker,
                         listeners=speech_listeners(SpeechModels(settings.speech_models_dir)),
                         telephony=TwilioTelephony(settings))
    try:
        port = await server.start()
    except OSError as exc:
        speaker.close()
        raise ConfigError("GRIDREACH_VOICE_PORT", f"cannot listen on {settings.listen_host}:"
                                                  f"{settings.listen_port} ({exc.strerror})") from None

    async def close() -> None:
        await server.stop()
        speaker.close()

    parts.closers.append(close)
    parts.lines.append(f"voice     on   webhooks on {settings.listen_host}:{port} "
                       f"(Twilio reaches them at {settings.public_base_url}/voice/...)")


class _NoProductionNag(logging.Filter):
    """Sanic warns on a terminal that it runs in production mode; for `serve` that is the point."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "PRODUCTION mode" not in record.getMessage()


def _app(parts: _Parts, on: list[str]) -> Sanic:
    app = Sanic(f"gridreach_serve_{os.getpid()}_{id(parts)}")
    app.config.MOTD = False  # `serve` says itself what is on and where
    logging.getLogger("sanic.error").addFilter(_NoProductionNag())
    for blueprint, prefix in parts.blueprints:
        app.blueprint(blueprint, url_prefix=prefix)

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok", "channels": on})

    return app


async def _start_web(app: Sanic, sock: socket.socket) -> Any:
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False,
                                     asyncio_server_kwargs={"start_serving": False})
    if server is None:
        raise GridReachError("the web server did not start")
    await server.startup()
    await server.before_start()
    await server.start_serving()
    try:
        await server.after_start()  # the Telegram bot connects here (getMe, setWebhook or polling)
    except BaseException:
        await _stop_web(server)
        raise
    return server


async def _stop_web(server: Any) -> None:
    await server.before_stop()  # the Telegram bot stops polling and finishes what it is sending
    server.close()
    await server.wait_closed()
    await server.after_stop()


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
    try:
        if channels.telegram is not None:
            _telegram(rt, channels, parts, base)
        if channels.wechat is not None:
            _wechat(rt, channels, parts, base, stop, interval)
        if channels.wecom is not None:
            _wecom(rt, channels, parts, stop, interval)
        if channels.voice is not None:
            await _voice(rt, channels, parts)
        server = await _start_web(_app(parts, channels.on), sock)
        try:
            for line in parts.lines:
                say("  " + line)
            off = [name for name in ("telegram", "wechat", "wecom", "voice") if name not in channels.on]
            if off:
                say(f"  off: {', '.join(off)} (not configured)")
            say(f"Serving on {base} (health: {base}/health). Stop with Ctrl-C or SIGTERM.")
            await stop.wait()
            say("Stopping...")
        finally:
            await _stop_web(server)
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

