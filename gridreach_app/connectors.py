"""The connector registry: which channels `gridreach serve` and the worker commands (notice, screen, groups) loop over.

The built-in connectors are listed here, by module path (``module:ATTRIBUTE``), and imported when first asked
for (importing one imports neither Rasa nor its client library). More come from
``register(connector)`` (in-process), from ``GRIDREACH_CONNECTORS`` (module paths separated by commas) or from a
section of the channels file named by a module path, as Rasa's ``credentials.yml`` loads channels::

    tests.app.echo_connector:      # the module's CONNECTOR; the section is its settings
      prefix: "echo: "

A module path names a module (its ``CONNECTOR``) or ``module:ATTRIBUTE``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping

from gridreach.connector import Connector
from gridreach.errors import ConfigError

__all__ = ["BUILTIN", "EXTRA_ENV", "connector_from", "connectors", "register", "unregister"]

BUILTIN = (
    "bots.telegram.connector:CONNECTOR",
    "bots.wechat.connector:OFFICIAL_ACCOUNT",
    "bots.wechat.connector:WECOM",
    "voice_caller.connector:CONNECTOR",
)
EXTRA_ENV = "GRIDREACH_CONNECTORS"
_registered: list[Connector] = []


def connector_from(path: str, where: str | None = None) -> Connector:
    """The connector at ``module`` (its ``CONNECTOR``) or ``module:ATTRIBUTE``; ``ConfigError`` naming ``where``
    (else the path) when there is none."""
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(where or path, f"names no importable connector module ({exc})") from None
    found = getattr(module, attribute or "CONNECTOR", None)
    if isinstance(found, type):
        found = found()  # a connector class: its instance
    if found is None or not isinstance(found, Connector):
        raise ConfigError(where or path, f"{module_name} has no connector {attribute or 'CONNECTOR'}")
    return found


def register(connector: Connector | type) -> Connector:
    """Add a connector (or a connector class: its instance) after the built-in ones; the same name twice is
    refused. Returns the connector (``unregister`` takes it away again)."""
    found = connector() if isinstance(connector, type) else connector
    if not isinstance(found, Connector):
        raise TypeError(f"{connector!r} is not a connector (gridreach.connector.Connector)")
    if any(c.name == found.name for c in connectors(environ={})):
        raise ConfigError(found.name, "is already a registered connector")
    _registered.append(found)
    return found


def unregister(connector: Connector) -> None:
    _registered[:] = [c for c in _registered if c is not connector]


def connectors(extra: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> list[Connector]:
    """The built-in connectors, then the registered ones, then those of ``GRIDREACH_CONNECTORS`` and ``extra``
    (module paths); each name once."""
    env = os.environ if environ is None else environ
    paths = [p.strip() for p in env.get(EXTRA_ENV, "").split(",") if p.strip()]
    found: list[Connector] = [connector_from(p) for p in BUILTIN]
    found += _registered
    found += [connector_from(p, EXTRA_ENV if p in paths else None) for p in [*paths, *extra]]
    unique: dict[str, Connector] = {}
    for c in found:
        unique.setdefault(c.name, c)
    return list(unique.values())
