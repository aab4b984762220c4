"""The Official Account's core, channel-neutral: a parsed callback in, the passive reply text (or None) out.

* follow → welcome and how to bind; unfollow → opt-out for WeChat;
* phone + one-time code → binding (``bots.wechat.binding``, off the event loop, limited in the database);
* menu click ``SCREEN:<questionnaire>`` / ``CAMPAIGN:<token>`` → the questionnaire starts for a bound resident;
* 收到 / received / 1 after a recent notice of the resident's grid → receipt "acknowledged"; 找网格员 → "asked_human"
  (and the dialogue hands over);
* any other text → the dialogue, as ``wechat:<openid>`` with ``message_id`` = MsgId; a bare number answers the
  numbered options of the last question;
* images, voice without recognition, locations → "please answer in text"; over-long text → refused, nothing stored.

Replies come back within the deadline as the passive reply, otherwise as customer-service messages
(``bots.wechat.turns``, ``bots.wechat.sender``). Message texts and answers are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bots.wechat.api import Inbound
from bots.wechat.binding import Binder, BindRequest, parse_binding
from bots.wechat.config import OfficialAccountSettings
from bots.wechat.format import Choices, compose
from bots.wechat.sender import ServiceSender
from bots.wechat.turns import TurnKeeper
from campaigns.phrases import both, phrase
from campaigns.triggers import start_message
from gridreach.bounded import BoundedDict
from gridreach.dialogue import Dialogue, claimed, typed
from gridreach.errors import GridReachError
from gridreach.store import Store
from gridreach.views import ResidentView

__all__ = ["CHANNEL", "OfficialAccountBot", "Outcome"]

CHANNEL = "wechat"
log = logging.getLogger(__name__)
_ACK_WORDS = {"收到", "已收到", "收到了", "received", "got it", "1"}
_HUMAN_WORDS = {"找网格员", "联系网格员", "人工", "grid worker", "talk to a person"}
_OPENING_EVENTS = {"subscribe", "scan", "click", "view", "location", "scancode_push", "scancode_waitmsg"}
_PUNCTUATION = re.compile(r"[\s。！!，,.、~～]+")


@dataclass(frozen=True)
class Outcome:
    """The text for one callback (None: nothing to say) and whom it is for."""

    openid: str
    text: str | None


class OfficialAccountBot:
    def __init__(self, store: Store, dialogue: Dialogue, settings: OfficialAccountSettings,
                 service: ServiceSender, *, receipt_window: timedelta = timedelta(days=3),
                 binder: Binder | None = None, remember: int = 10_000) -> None:
        self.store = store
        self.dialogue = dialogue
        self.settings = settings
        self.service = service
        self.receipt_window = receipt_window
        self.binder = binder or Binder(store)
        self.turns: TurnKeeper[Outcome] = TurnKeeper(settings.reply_deadline, self._late)
        self._choices: BoundedDict[str, Choices] = BoundedDict(remember)  # the numbered options last shown

    async def respond(self, inbound: Inbound) -> str | None:
        """The passive reply for a callback, once per message; None answers WeChat with an empty "success"."""
        outcome = await self.turns.answer(inbound.dedupe_key, lambda: self._process(inbound))
        return outcome.text if outcome is not None and outcome.text else None

    async def _late(self, key: str, outcome: Outcome) -> None:
        if outcome.text:
            await asyncio.to_thread(self.service.enqueue, outcome.openid, outcome.text, f"reply:{key}")
            await self.service.drain()

    # ---- routing ----------------------------------------------------------------------------
    async def _process(self, inbound: Inbound) -> Outcome:
        if inbound.kind == "event":
            return await self._event(inbound)
        # the database is called off the event loop: it serves every webhook, due within WeChat's 5 s
        await asyncio.to_thread(self.store.note_inbound, CHANNEL, inbound.openid)
        resident = await asyncio.to_thread(self.store.resident_by_identity, CHANNEL, inbound.openid)
        language = resident.language if resident else None
        text = inbound.content if inbound.kind == "text" else inbound.recognition
        if text is None or not text.strip():
            return self._say(inbound, "text_only", language)
        if len(text) > self.settings.max_text_chars:
            return self._say(inbound, "too_long", language, limit=self.settings.max_text_chars)
        choices = self._choices.get(inbound.openid)
        if choices is None or resident is None:
            request = parse_binding(text)
            if request is not None:
                return await self._bind(inbound, request, language)
            if resident is None:
                return self._say(inbound, "bind_first", None)
            receipt = await asyncio.to_thread(self._receipt, inbound, resident, text)
            if receipt is not None:
                return receipt
        return await self._converse(inbound, typed(text), choices)  # a typed "/intent{...}" stays text

    async def _bind(self, inbound: Inbound, request: BindRequest, language: str | None) -> Outcome:
        """Once per message (a redelivery says nothing); the claim is released when binding fails to run."""
        async with claimed(self.store, CHANNEL, f"bind:{inbound.dedupe_key}") as state:
            if state != "claimed":
                return Outcome(inbound.openid, None)
            result = await asyncio.to_thread(self.binder.bind, inbound.openid, request)
        bound = result.resident  # the name only once the binding is done
        return self._say(inbound, result.reason, bound.language if bound else language,
                         name=bound.name if bound else "", phone=result.masked_phone)

    async def _event(self, inbound: Inbound) -> Outcome:
        if inbound.event in _OPENING_EVENTS:
            await asyncio.to_thread(self.store.note_inbound, CHANNEL, inbound.openid)
        resident = await asyncio.to_thread(self.store.resident_by_identity, CHANNEL, inbound.openid)
        if inbound.event == "subscribe":
            if resident is None:
                return self._say(inbound, "welcome", None)
            return self._say(inbound, "welcome_back", resident.language, name=resident.name)
        if inbound.event == "unsubscribe":
            self._choices.pop(inbound.openid, None)
            if resident is not None:
                await asyncio.to_thread(self.store.record_opt_out, resident.id, CHANNEL, "unsubscribed")
            return Outcome(inbound.openid, None)
        if inbound.event == "click":
            if resident is None:
                return self._say(inbound, "bind_first", None)
            trigger = await asyncio.to_thread(self._trigger, inbound.event_key or "")
            if trigger is None:
                log.warning("menu key not understood (set SCREEN:<questionnaire> or CAMPAIGN:<token>)")
                return Outcome(inbound.openid, None)
            return await self._converse(inbound, trigger, None)
        return Outcome(inbound.openid, None)

    def _trigger(self, key: str) -> str | None:
        """The start message of a menu key (blocking: run in a worker thread)."""
        kind, _, value = key.partition(":")
        if kind.upper() == "SCREEN" and value:
            return start_message(value)
        if kind.upper() == "CAMPAIGN" and value:
            campaign = self.store.campaign_by_token(value)
            if campaign is not None:
                return start_message(campaign.questionnaire_id, campaign.id)
        return None

    def _receipt(self, inbound: Inbound, resident: ResidentView, text: str) -> Outcome | None:
        """A receipt word after a recent notice of the resident's grid (blocking: run in a worker thread)."""
        word = _PUNCTUATION.sub(" ", text).strip().lower()
        if word not in _ACK_WORDS and word not in _HUMAN_WORDS:
            return None
        since = datetime.now(timezone.utc) - self.receipt_window
        notice = self.store.latest_notice(resident.grid_code, since)
        if notice is None:
            return None
        if word in _ACK_WORDS:
            self.store.record_receipt(notice.id, resident.id, CHANNEL, "acknowledged")
            return self._say(inbound, "ack", resident.language)
        self.store.record_receipt(notice.id, resident.id, CHANNEL, "asked_human")
        return None  # the dialogue answers with the hand-over

    async def _converse(self, inbound: Inbound, text: str, choices: Choices | None) -> Outcome:
        metadata: dict[str, object] = {"message_id": inbound.dedupe_key}
        resolved = choices.resolve(text) if choices is not None else None
        if resolved is not None:
            text, keypad = resolved
            if keypad:
                metadata["keypad"] = True
        try:
            replies = await self.dialogue.handle(f"{CHANNEL}:{inbound.openid}", text, CHANNEL, metadata)
        except GridReachError as exc:
            log.warning("dialogue failed for a WeChat message: %s", type(exc).__name__)
            return self._say(inbound, "busy", None)
        if not replies:
            return Outcome(inbound.openid, None)
        composed = compose(replies)
        if composed.choices is not None:
            self._choices[inbound.openid] = composed.choices
        else:
            self._choices.pop(inbound.openid, None)
        return Outcome(inbound.openid, composed.text or None)

    @staticmethod
    def _say(inbound: Inbound, key: str, language: str | None, **values: Any) -> Outcome:
        """The text ``wechat.<key>`` in ``language``; ``None`` (not bound yet): Chinese, then English."""
        text = both(f"wechat.{key}", **values) if language is None else phrase(f"wechat.{key}", language, **values)
        return Outcome(inbound.openid, text)
