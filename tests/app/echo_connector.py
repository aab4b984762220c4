"""A toy connector, the whole of it in one module: ``POST /webhooks/echo/webhook`` with ``{"sender", "text"}``
hands the text to the dialogue and answers ``{"replies": [prefix + reply, ...]}``. Its settings: ``prefix`` (the
channels file's ``tests.app.echo_connector:`` section, or ``GRIDREACH_ECHO_PREFIX``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridreach.connector import Outgoing, Serving, Started, WithoutGroups, read_section
from gridreach.errors import ConfigError

__all__ = ["CONNECTOR", "EchoConnector", "EchoSettings"]

PATH = "/webhooks/echo"


@dataclass(frozen=True)
class EchoSettings:
    prefix: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> EchoSettings:
        unknown = set(data) - {"prefix"}
        if unknown:
            raise ConfigError(sorted(unknown)[0], "is not an echo setting")
        prefix = data.get("prefix")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigError("prefix", "must be a text")
        return cls(prefix)


class EchoConnector(WithoutGroups):
    name = "echo"
    aliases: tuple[str, ...] = ()
    outbox_channels: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.sent: list[tuple[str, Outgoing]] = []

    def read_settings(self, section: Mapping[str, Any] | None, env: Mapping[str, str], home: Path,
                      where: str) -> EchoSettings | None:
        return read_section({"prefix": ("GRIDREACH_ECHO_PREFIX",)}, section, env, where,
                            EchoSettings.from_mapping)

    async def start(self, serving: Serving, settings: EchoSettings) -> Started:
        from sanic import Blueprint, response
        from sanic.request import Request
        from sanic.response import HTTPResponse

        blueprint = Blueprint(f"echo_{id(self)}")

        @blueprint.post("/webhook")
        async def webhook(request: Request) -> HTTPResponse:
            body = request.json or {}
            replies = await serving.dialogue.handle(f"echo:{body['sender']}", str(body["text"]), "echo",
                                                    {"channel": "echo"})
            return response.json({"replies": [settings.prefix + (r.text or "") for r in replies]})

        async def send(account: str, message: Outgoing) -> None:
            self.sent.append((account, message))

        return Started(f"echo on {serving.base_url}{PATH}/webhook", routes=[(blueprint, PATH)], send=send)



CONNECTOR = EchoConnector()
