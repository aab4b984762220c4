"""Start and stop a Sanic app (Rasa's web server) on the running event loop or on its own thread: the one recipe
`gridreach serve`, the demo and the tests use.

Sanic 21.12's low-level recipe: ``app.create_server(sock=..., return_asyncio_server=True)`` with
``start_serving=False`` (it binds but does not accept yet), ``startup()`` (finalises the router and signals),
``before_start()``, ``start_serving()``, ``after_start()``; stopping runs ``before_stop()``, ``close()``,
``wait_closed()``, ``after_stop()``, so blueprint listeners (a connector's sender loop, say) start and stop as
under ``rasa run``. Binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sanic import Sanic

from gridreach.errors import GridReachError

__all__ = ["Served", "ServedApp", "bind", "new_app", "serve_app", "start", "url_of"]


def new_app(*blueprints: Any, routes: Iterable[tuple[Any, str]] = (), name: str = "gridreach") -> Sanic:
    """A fresh Sanic app (a unique name: Sanic keeps a registry of them), no banner, holding ``blueprints`` and
    each of ``routes`` (blueprint, URL prefix)."""
    app = Sanic(f"{name}_{uuid.uuid4().hex[:12]}")
    app.config.MOTD = False
    for blueprint in blueprints:
        app.blueprint(blueprint)
    for blueprint, prefix in routes:
        app.blueprint(blueprint, url_prefix=prefix)
    return app


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A socket bound to ``host:port`` (0: any free port), not inherited by child processes; ``OSError`` when
    the address is taken."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@dataclass
class Served:
    """A running app on the running event loop: ``url`` is ``http://host:port``."""

    url: str
    server: Any

    async def stop(self) -> None:
        await self.server.before_stop()  # a connector stops its loops and finishes what it is sending
        self.server.close()
        await self.server.wait_closed()
        await self.server.after_stop()


async def start(app: Sanic, sock: socket.socket | None = None) -> Served:
    """Serve ``app`` on ``sock`` (default: a free port on 127.0.0.1) on the running loop; when a listener fails
    at start the server is stopped again and the error raised."""
    sock = sock or bind()
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False,
                                     asyncio_server_kwargs={"start_serving": False})
    if server is None:
        raise GridReachError("the web server did not start")
    await server.startup()
    await server.before_start()
    await server.start_serving()
    served = Served(url_of(sock), server)
    try:
        await server.after_start()  # the Telegram bot connects here (getMe, setWebhook or polling)
    except BaseException:
        await served.stop()
        raise
    return served


@dataclass
class ServedApp:
    """An app served on another thread's loop (a test's): ``run`` a coroutine there, ``stop()`` it all."""

    url: str
    loop: asyncio.AbstractEventLoop
    served: Served
    own_thread: threading.Thread | None = field(default=None, repr=False)

    def run(self, coro: Any, timeout: float = 120.0) -> Any:
        """Run a coroutine on the app's loop from the calling thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)

    def stop(self) -> None:
        self.run(self.served.stop(), timeout=30)
        if self.own_thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.own_thread.join(timeout=10)


def serve_app(app: Sanic, loop: asyncio.AbstractEventLoop | None = None) -> ServedApp:
    """Start ``app`` on a free 127.0.0.1 port, on ``loop`` (already running in another thread) or a new one."""
    thread = None
    if loop is None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True, name=f"sanic-{app.name}")
        thread.start()
    served = asyncio.run_coroutine_threadsafe(start(app), loop).result(timeout=60)
    return ServedApp(served.url, loop, served, thread)
