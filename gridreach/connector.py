"""One seam for a channel: the ``Connector`` protocol every channel (Telegram, WeChat OA, WeCom, voice, a test's
echo) implements, and the pieces `gridreach serve` and the worker commands hand to it or get back.

A connector is a small object in its own package; importing it imports neither Rasa nor the channel's client
library (they are imported by ``start``). Its settings are read and validated in its own package; ``read_section``
is the usual way: the channel's section of the channels file merged with its environment variables (they win), a
``ConfigError`` naming the variable or the file key. The app's registry (``gridreach_app.connectors``) lists the
connectors; nothing else names them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from gridreach.errors import ConfigError

if TYPE_CHECKING:
    from gridreach.dialogue import Dialogue
    from gridreach.settings import Settings
    from gridreach.store import Store
    from gridreach.views import ChatGroupView

__all__ = ["Announced", "Connector", "NoticeQueued", "Outgoing", "Serving", "Started", "WithoutGroups", "read_section"]


@dataclass(frozen=True)
class Outgoing:
    """A text for one resident; with ``choices`` it is a question (buttons, a keypad, a numbered list)."""

    text: str
    choices: tuple[str, ...] = ()


@dataclass
class Serving:
    """What `gridreach serve` gives a connector when it starts it."""

    store: Store
    dialogue: Dialogue
    settings: Settings  # the app's settings (``production``, the home directory...)
    base_url: str  # where the web server listens, ``http://host:port``


@dataclass
class Started:
    """What a started connector hands back to `serve`: its routes (Sanic blueprints under a URL prefix, their
    listeners start and stop with the web server), the outbox drains `serve` runs every few seconds, what to close
    at shutdown (after the loops finished, in reverse order), its one-line status and how it sends to one
    resident (``send(account, message)``; None: it cannot)."""

    status: str
    routes: list[tuple[Any, str]] = field(default_factory=list)
    loops: list[tuple[str, Callable[[], Awaitable[Any]]]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    send: Callable[[str, Outgoing], Awaitable[None]] | None = None


@dataclass
class NoticeQueued:
    """A connector's share of a notice: per outbox channel the groups queued and those it cannot reach, and notes."""

    queued: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Announced:
    """What a connector did for a new screening: one line for the worker, and the groups it queued a post for
    (None: it posts nothing from here)."""

    line: str
    queued: tuple[str, ...] | None = None


@runtime_checkable
class Connector(Protocol):
    """A channel. ``settings`` is None where the channel is not configured (every method but ``start`` is called
    then too: a notice is queued for a `serve` elsewhere to deliver)."""

    name: str  # its section in the channels file and its name in `serve`'s status ("telegram")
    aliases: tuple[str, ...]  # sections of Rasa's credentials.yml read as this one (module paths of its channel)
    outbox_channels: tuple[str, ...]  # the outbox / group channels it delivers ("wecom_robot", ...)

    def read_settings(self, section: Mapping[str, Any] | None, env: Mapping[str, str], home: Path,
                      where: str) -> Any | None:
        """Its validated settings (None: off) from its file section (None: absent; ``where`` prefixes its keys
        in errors: ``"channels.yml: telegram."``, or ``"telegram."`` without a file) and the environment."""
        ...

    async def start(self, serving: Serving, settings: Any) -> Started:
        """Start under `gridreach serve`; a ``ConfigError`` / ``GridReachError`` stops serve with its message."""
        ...

    def reachable(self, store: Store, settings: Any | None, grid: str, title: str, body: str) -> int:
        """How many of the grid's groups a notice can reach here; ``ConfigError`` when the text does not fit."""
        ...

    def queue_notice(self, store: Store, settings: Any | None, notice_id: int, grid: str, body: str) -> NoticeQueued:
        """Queue the stored notice to the grid's groups (once each, whatever happens)."""
        ...

    async def send_now(self, store: Store, settings: Any | None, timeout: float) -> list[str]:
        """Drain its outboxes in this process; what could not be sent."""
        ...

    def group_note(self, group: ChatGroupView, settings: Any | None) -> str:
        """Why a bound group cannot be reached from here ("" when it can)."""
        ...

    def announce_screening(self, store: Store, settings: Any | None, campaign_id: int, grid: str, title: str,
                           token: str) -> Announced | None:
        """Tell the grid how to join a new screening (``title``: its titles, ``token``: the campaign's token), or
        how residents join it here; None: nothing to say."""
        ...


class WithoutGroups:
    """The group side of a ``Connector`` for a channel that has no groups (a phone line, a one-to-one chat): it
    reaches none, queues nothing, has nothing to send and nothing to say about a group. Inherit it and write the
    rest (``announce_screening`` too, when residents join a screening through this channel)."""

    def reachable(self, store: Store, settings: Any | None, grid: str, title: str, body: str) -> int:
        return 0

    def queue_notice(self, store: Store, settings: Any | None, notice_id: int, grid: str, body: str) -> NoticeQueued:
        return NoticeQueued()

    async def send_now(self, store: Store, settings: Any | None, timeout: float) -> list[str]:
        return []

    def group_note(self, group: ChatGroupView, settings: Any | None) -> str:
        return ""

    def announce_screening(self, store: Store, settings: Any | None, campaign_id: int, grid: str, title: str,
                           token: str) -> Announced | None:
        return None


def read_section(keys: Mapping[str, tuple[str, ...]], section: Mapping[str, Any] | None, env: Mapping[str, str],
                 where: str, build: Callable[[dict[str, Any]], Any],
                 parse: Mapping[str, Callable[[str, str], Any]] | None = None) -> Any | None:
    """The usual settings reader: the file ``section`` overlaid with the environment (``keys``: setting ->
    variables, the first one set wins; ``parse[setting](variable, value)`` turns a variable's text into the value),
    built by ``build``; None when neither has anything. A ``ConfigError`` names where the value came from (or
    belongs, when missing)."""
    data = dict(section or {})
    sources = {k: f"{where}{k}" for k in data}
    from_env = False
    for key, variables in keys.items():
        variable = next((v for v in variables if env.get(v, "").strip()), None)
        if variable is not None:
            value = env[variable].strip()
            data[key] = parse[key](variable, value) if parse and key in parse else value
            sources[key], from_env = variable, True
    if section is None and not from_env:
        return None
    try:
        return build(data)
    except ConfigError as exc:
        head = exc.key.split(".", 1)[0]
        named = sources.get(exc.key) or sources.get(head)
        if named is None:
            variable = keys.get(head, (None,))[0]
            if section is None:
                named = variable or f"{where}{head}"
            else:
                named = f"{where}{head}" + (f" (or {variable})" if variable is not None else "")
        elif head == "robots" and exc.key != head:
            named = f"{named} ({exc.key})"
        raise ConfigError(named, exc.reason) from None
