"""The HTTP side of the Official Account: a Sanic blueprint (Rasa's web server is Sanic).

``GET  /webhook``  URL verification: ``echostr`` back when ``signature`` is ours, else 403.
``POST /webhook``  a callback: forged (signature, msg_signature, ciphertext, stale timestamp, a nonce replayed
                   with another body) → 403; not WeChat's XML → 400; both change nothing. The clock and the
                   query's ``signature`` are checked before any of the body is read, and at most ``max_body`` bytes
                   are read (413 above that). Otherwise the passive reply XML (encrypted in safe mode), or
                   ``success`` when there is nothing to say in time.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bots.wechat.api import CallbackCodec
from bots.wechat.bot import OfficialAccountBot
from gridreach.errors import ForgedRequest, MalformedRequest
from gridreach.http_body import read_capped

__all__ = ["MAX_CALLBACK_BYTES", "webhook_blueprint"]

MAX_CALLBACK_BYTES = 64 * 1024  # a callback is a small XML document (a text message is at most 2,048 bytes)


def _query(request: Request) -> dict[str, str]:
    return {key: str(values[0]) for key, values in request.args.items() if values}


def webhook_blueprint(bot: OfficialAccountBot, codec: CallbackCodec, name: str = "wechat_webhook",
                      max_body: int = MAX_CALLBACK_BYTES) -> Blueprint:
    blueprint = Blueprint(name)

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @blueprint.route("/webhook", methods=["GET"])
    async def verify(request: Request) -> HTTPResponse:
        try:
            return response.text(codec.verify_url(_query(request)))
        except ForgedRequest:
            return response.text("forbidden", status=403)
        except MalformedRequest:
            return response.text("bad request", status=400)

    scope = f"wechat:{codec.settings.app_id}"
    window = timedelta(seconds=codec.replay_window)

    def fresh(key: str, body_hash: str) -> bool:  # in the database: every process sees every nonce
        return bot.store.remember_nonce(scope, key, body_hash, window) != "replay"

    @blueprint.route("/webhook", methods=["POST"], stream=True)  # the body is read only once the query is signed
    async def callback(request: Request) -> HTTPResponse:
        query = _query(request)
        try:
            codec.check_query(query)
        except ForgedRequest:
            return response.text("forbidden", status=403)
        body = await read_capped(request, max_body)
        if body is None:
            return response.text(f"a callback is at most {max_body} bytes", status=413)
        try:  # off the event loop: the nonce is remembered in the database
            inbound = await asyncio.to_thread(codec.open, query, body, fresh)
        except ForgedRequest:
            return response.text("forbidden", status=403)
        except MalformedRequest:
            return response.text("bad request", status=400)
        text = await bot.respond(inbound)
        if not text:
            return response.text("success")
        return response.text(codec.reply(inbound, text, query), content_type="application/xml; charset=utf-8")

    return blueprint


