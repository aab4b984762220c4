"""Serve a Sanic 21.12 app (Rasa's web server) on 127.0.0.1 for a test, on a given event loop or its own thread.

Sanic 21.12's low-level recipe: ``app.create_server(sock=..., return_asyncio_server=True)``, then
(it binds, but with ``start_serving=False`` does not accept yet), ``startup()`` (finalises the router and signals),
``before_start()``, ``start_serving()``, ``after_start()``; stopping runs ``before_stop()``, ``close()``, ``wait_closed()``, ``after_stop()``, so blueprint
listeners (a connector's sender loop, say) start and stop as under ``rasa run``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from sanic import Sanic

__all__ = ["ServedApp", "new_app", "serve_app"]


def new_app(*blueprints: Any) -> Sanic:
    """A fresh Sanic app (unique name, as Sanic keeps a registry of app names) holding ``blueprints``."""
    app = Sanic(f"test_{uuid.uuid4().hex[:12]}")
    for bp in blueprints:
        app.blueprint(bp)
    return app


@dataclass
class ServedApp:
    """A running app: ``url`` is ``http://127.0.0.1:<port>``; ``stop()`` shuts it (and its own loop) down."""

    url: str
    loop: asyncio.AbstractEventLoop
    server: Any
    own_thread: threading.Thread | None = field(default=None, repr=False)

    def run(self, coro: Any, timeout: float = 120.0) -> Any:
        """Run a coroutine on the app's loop from the test's thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)

    def stop(self) -> None:
        async def _stop() -> None:
            await self.server.before_stop()
            self.server.close()
            await self.server.wait_closed()
            await self.server.after_stop()

        self.run(_stop(), timeout=30)
        if self.own_thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.own_thread.join(timeout=10)


def serve_app(app: Sanic, loop: asyncio.AbstractEventLoop | None = None) -> ServedApp:
    """Start ``app`` on a free loopback port, on ``loop`` (already running in another thread) or a new one."""
    thread = None
    if loop is None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True, name=f"sanic-{app.name}")
        thread.start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    async def _start() -> Any:
        server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False,
                                         asyncio_server_kwargs={"start_serving": False})
        await server.startup()
        await server.before_start()
        await server.start_serving()
        await server.after_start()
        return server

    server = asyncio.run_coroutine_threadsafe(_start(), loop).result(timeout=60)
    return ServedApp(f"http://127.0.0.1:{port}", loop, server, thread)
