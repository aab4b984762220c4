"""The channel-neutral core of the Telegram connector: one Bot API Update in, the right thing done.

``TelegramBot.handle_update(update)`` is the same whether the update came by webhook or by polling, under
``rasa run`` or in the app's embedded runtime. Each update is claimed (``gridreach.dialogue.claimed``, the claim
``OnceOnly`` takes of each dialogue turn) with a lease: a handled update's redelivery changes nothing; when handling
fails the claim is released for the redelivery, and the claim of a process killed mid-update expires after
``claim_lease``. A retried update does each side effect
once (``bots.telegram.journal``): messages, callback answers, edits, the dialogue turn, a redeemed code. The
database is always called off the event loop (``asyncio.to_thread``): that loop serves every webhook.

A conversation is always with one person (sender id ``telegram:<user id>``), in the private chat; in groups the
bot only takes grid workers' commands and receipt buttons, never answers. A person is tied to their resident record
by sharing their own phone number or by sending their phone number with a one-time code from their grid worker
(``Store.redeem_code_limited``: tries limited per user and overall in the database, wrong / used / expired codes
answered alike); either binding evicts any other Telegram account of that resident. A campaign's deep link
(``/start <token>``) opened before binding is kept in the database (``pending_campaigns``) and starts once bound.
What is not remembered across a restart: which question's buttons are live (a button pressed after a restart is
answered as stale; typing the answer works).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from bots.telegram.config import TelegramSettings
from bots.telegram.format import pressed_option, question_keyboard
from bots.telegram.journal import UpdateJournal, once, step_name
from bots.telegram.sender import CHANNEL, Sender
from bots.telegram.updates import Incoming, UpdateBusy, parse_update
from bots.telegram.workers import WORKER_COMMANDS, WorkerDesk, split_command
from campaigns import QUESTIONNAIRE_DIR, Questionnaire
from campaigns.expect import Expect
from campaigns.phrases import language_of, phrase
from campaigns.registry import load_and_register
from campaigns.triggers import start_message
from gridreach.bounded import BoundedDict
from gridreach.dialogue import Dialogue, Reply, claimed, typed
from gridreach.errors import ChannelError, NotFound
from gridreach.phones import normalize_phone
from gridreach.store import Store
from gridreach.store.binding import AttemptLimit
from gridreach.views import CampaignView, ResidentView

__all__ = ["TelegramBot"]

log = logging.getLogger(__name__)
_CODE = re.compile(r"^\s*(\d{8})\s*$")
_PHONE_AND_CODE = (re.compile(r"^\s*(?P<phone>\+?[\d\s()-]{6,24}?)[\s,，;；]+(?P<code>\d{8})\s*$"),
                   re.compile(r"^\s*(?P<code>\d{8})[\s,，;；]+(?P<phone>\+?[\d\s()-]{6,24}?)\s*$"))
CLAIMS = "telegram_update"  # the claim's channel in Store.claim_inbound; its key is "<bot id>:<update id>"
T = TypeVar("T")


async def _value(value: T) -> T:
    return value


def _none(_: Any) -> None:
    """What a retry gets back of a step whose result is not kept (an edit, a callback answer)."""
    return None


def _encode_replies(replies: Sequence[Reply]) -> list[dict[str, Any]]:
    """As JSON (a date or another non-JSON value in a payload becomes its text, as the channel shows it)."""
    raw = [{"text": r.text, "buttons": list(r.buttons), "custom": dict(r.custom or {})} for r in replies]
    return list(json.loads(json.dumps(raw, ensure_ascii=False, default=str)))


def _decode_replies(stored: Any) -> list[Reply]:
    """The replies as recorded for a retried update."""
    return [Reply(r.get("text"), tuple(r.get("buttons") or ()), dict(r.get("custom") or {})) for r in stored]


@dataclass(frozen=True)
class _Asked:
    """The question whose buttons are live in a private chat."""

    message_id: int
    expect: Expect


class TelegramBot:
    """Routes updates: group commands, private binding and deep links, answers, buttons, the unexpected."""

    def __init__(self, store: Store, dialogue: Dialogue, sender: Sender, settings: TelegramSettings,
                 questionnaires: Callable[[], Mapping[str, Questionnaire]] | None = None) -> None:
        self.store, self.dialogue, self.sender, self.settings = store, dialogue, sender, settings
        self.api = sender.api
        self._questionnaires: dict[str, Questionnaire] | None = None
        self.workers = WorkerDesk(store, sender, settings, questionnaires or self._load_questionnaires)
        self.bind_limit = AttemptLimit()  # tries at binding with a code, per user and overall (in the database)
        self._asked: BoundedDict[int, _Asked] = BoundedDict(10_000)  # private chat id -> question with live buttons
        self._bot_id = settings.token.split(":", 1)[0]

    def _load_questionnaires(self) -> Mapping[str, Questionnaire]:
        if self._questionnaires is None:
            self._questionnaires = load_and_register(self.store, QUESTIONNAIRE_DIR)
        return self._questionnaires

    async def handle_update(self, update: Any) -> None:
        """Handle one Update; raises ``MalformedUpdate`` (before any change) for a body it cannot read."""
        incoming = parse_update(update)
        if incoming is None:
            return
        key = f"{self._bot_id}:{incoming.update_id}"
        # the database is called off the event loop: under `rasa run` that loop serves every conversation
        async with claimed(self.store, CLAIMS, key, timedelta(seconds=self.settings.claim_lease)) as state:
            if state == "done":
                return
            if state == "busy":
                raise UpdateBusy(f"update {incoming.update_id} is being handled by another process; deliver it later")
            journal = await UpdateJournal.load(self.store, CLAIMS, key)
            token = journal.activate()
            try:
                await self._route(incoming)
            finally:
                UpdateJournal.deactivate(token)

    async def _route(self, inc: Incoming) -> None:
        if inc.kind == "member":
            if inc.private and inc.member_status == "kicked":
                await self.sender.recipient_gone(inc.chat_id)
                self._asked.pop(inc.chat_id, None)
            elif not inc.private:
                await self.workers.bot_left_group(inc)
        elif inc.kind == "callback":
            await self._button(inc)
        elif not inc.private:
            if inc.kind == "message":
                await self.workers.group_message(inc)
        elif inc.sender is not None and not inc.sender.is_bot:
            await self._private(inc)

    # ---- private chat ----------------------------------------------------------------------------------------
    def _language(self, inc: Incoming, resident: ResidentView | None) -> str:
        if resident is not None:
            return resident.language
        return language_of(inc.sender.language_code if inc.sender else None)

    async def _resident(self, user_id: int) -> ResidentView | None:
        return await asyncio.to_thread(self.store.resident_by_identity, CHANNEL, str(user_id))

    async def _private(self, inc: Incoming) -> None:
        assert inc.sender is not None
        resident = await self._resident(inc.sender.id)
        # a retried update takes the path of its first attempt, even when that attempt bound the person already
        if not await once("known", lambda: _value(resident is not None)):
            resident = None
        lang = self._language(inc, resident)
        if inc.kind == "edited":
            await self.sender.send_now(inc.chat_id, phrase("telegram.edited", lang))
        elif inc.contact is not None:
            await self._contact(inc, lang)
        elif inc.text is None or inc.media:
            await self.sender.send_now(inc.chat_id, phrase("telegram.unsupported", lang))
        elif len(inc.text) > self.settings.max_answer_chars:
            await self.sender.send_now(inc.chat_id, phrase("telegram.too_long", lang, limit=self.settings.max_answer_chars))
        elif (parsed := split_command(inc.text, self.settings.bot_username)) is not None:
            await self._command(inc, parsed[0], parsed[1], resident, lang)
        elif resident is None:
            found = next((m for m in (p.match(inc.text) for p in _PHONE_AND_CODE) if m is not None), None)
            if found is not None:
                await self._redeem(inc, found.group("phone"), found.group("code"), lang)
            elif _CODE.match(inc.text):  # a code alone binds nothing: with the phone a guess must match both
                await self.sender.send_now(inc.chat_id, phrase("telegram.code_need_phone", lang))
            else:
                await self._ask_bind(inc.chat_id, lang)
        else:  # typed text: a typed "/intent{...}" stays text (commands were taken above)
            await self._turn(inc, typed(inc.text), {})

    async def _command(self, inc: Incoming, command: str, args: str, resident: ResidentView | None,
                       lang: str) -> None:
        assert inc.sender is not None
        if command in WORKER_COMMANDS:
            await self.workers.private_command(inc, command, args, lang)
        elif command == "/start" and args and args != "bind":
            campaign = await asyncio.to_thread(self.store.campaign_by_token, args)
            if campaign is None or campaign.status == "finished":
                await self.sender.send_now(inc.chat_id, phrase("telegram.link_invalid", lang))
            elif resident is None:  # kept in the database: it starts once they are bound, whichever process
                await asyncio.to_thread(self.store.set_pending_campaign, CHANNEL, str(inc.sender.id), campaign.id)
                await self._ask_bind(inc.chat_id, lang)
            else:
                await self._start_campaign(inc, campaign)
        elif command == "/help" and resident is not None:
            await self._turn(inc, "/help", {})
        elif resident is not None:
            await self.sender.send_now(inc.chat_id, phrase("telegram.welcome", lang, name=resident.name))
        elif (worker := await self.workers.worker(inc.sender.id)) is not None:
            await self.sender.send_now(inc.chat_id, phrase("telegram.worker_linked", worker.language, name=worker.name,
                                                         grid=worker.grid_code))
        else:
            await self._ask_bind(inc.chat_id, lang)

    async def _ask_bind(self, chat_id: int, lang: str) -> None:
        keyboard = {"keyboard": [[{"text": phrase("telegram.share_phone", lang), "request_contact": True}]],
                    "one_time_keyboard": True, "resize_keyboard": True}
        await self.sender.send_now(chat_id, phrase("telegram.ask_bind", lang), keyboard)

    async def _contact(self, inc: Incoming, lang: str) -> None:
        assert inc.sender is not None and inc.contact is not None
        if inc.contact.user_id != inc.sender.id:  # someone else's card: anyone could claim anyone's record
            await self._ask_bind(inc.chat_id, lang)
            await self.sender.send_now(inc.chat_id, phrase("telegram.not_own_contact", lang))
            return
        worker = await asyncio.to_thread(self.store.find_grid_worker_by_phone, inc.contact.phone)
        if worker is not None:
            await asyncio.to_thread(self.store.link_worker_identity, worker.id, CHANNEL, str(inc.sender.id))
            await self.sender.send_now(inc.chat_id, phrase("telegram.worker_linked", worker.language, name=worker.name,
                                                         grid=worker.grid_code), {"remove_keyboard": True})
        resident = await asyncio.to_thread(self.store.find_resident_by_phone, inc.contact.phone)
        if resident is not None:  # their own verified number: this becomes their only Telegram account
            await asyncio.to_thread(self.store.bind_own_identity, resident.id, CHANNEL, str(inc.sender.id),
                                    "telegram_contact")
            await self._bound(inc, resident)
        elif worker is None:
            await self.sender.send_now(inc.chat_id, phrase("telegram.phone_unknown", lang))

    async def _redeem(self, inc: Incoming, typed_phone: str, code: str, lang: str) -> None:
        assert inc.sender is not None
        user = str(inc.sender.id)
        try:
            phone = normalize_phone(typed_phone)
        except ValueError:
            await self.sender.send_now(inc.chat_id, phrase("telegram.code_bad_phone", lang))
            return

        async def redeem() -> dict[str, Any]:  # once per update: a retry must not find its own code "used"
            outcome = await asyncio.to_thread(self.store.redeem_code_limited, code, CHANNEL, user, phone,
                                              self.bind_limit)
            return {"resident": outcome.resident.id} if outcome.resident else {"error": outcome.reason}

        outcome = await once("redeem", redeem)
        resident = None
        if "resident" in outcome:
            resident = await asyncio.to_thread(self.store.get_resident, int(outcome["resident"]))
        if resident is None:  # wrong, used, expired, another's: one answer
            refusal = "too_many" if outcome.get("error") == "too_many" else "not_valid"
            await self.sender.send_now(inc.chat_id, phrase(f"telegram.code_{refusal}", lang))
            return
        await self._bound(inc, resident)

    async def _bound(self, inc: Incoming, resident: ResidentView) -> None:
        assert inc.sender is not None
        await self.sender.send_now(inc.chat_id, phrase("telegram.bound", resident.language, name=resident.name,
                                                     community=resident.community_name), {"remove_keyboard": True})
        user = str(inc.sender.id)
        campaign_id = await asyncio.to_thread(self.store.pending_campaign, CHANNEL, user)
        campaign = await asyncio.to_thread(self.store.get_campaign, campaign_id) if campaign_id is not None else None
        if campaign is not None and campaign.status != "finished":
            await self._start_campaign(inc, campaign)  # forgotten only once started: a failure is redelivered
        await asyncio.to_thread(self.store.clear_pending_campaign, CHANNEL, user)

    async def _start_campaign(self, inc: Incoming, campaign: CampaignView) -> None:
        await self._turn(inc, start_message(campaign.questionnaire_id, campaign.id), {})

    # ---- dialogue turns and buttons --------------------------------------------------------------------------
    async def _turn(self, inc: Incoming, message: str, extra: dict[str, Any]) -> None:
        assert inc.sender is not None
        metadata = {"channel": CHANNEL, "message_id": f"{inc.chat_id}:{inc.message_id or inc.callback_id}",
                    **extra}
        sender_id = f"{CHANNEL}:{inc.sender.id}"
        replies = await once(step_name("turn"), lambda: self.dialogue.handle(sender_id, message, CHANNEL, metadata),
                             _encode_replies, _decode_replies)
        if replies:
            await self._render(inc, replies)

    async def _button(self, inc: Incoming) -> None:
        assert inc.callback_id is not None
        kind, _, rest = (inc.data or "").partition(":")
        if kind == "n" and rest.isascii() and rest.isdigit() and inc.sender is not None:
            await self._receipt(inc, int(rest))
            return
        resident = await self._resident(inc.sender.id) if inc.sender else None
        lang = self._language(inc, resident)
        asked = self._asked.get(inc.chat_id)
        key, _, digit = rest.rpartition(":")

        async def press() -> dict[str, Any] | None:  # decided once: a retry does not find its buttons replaced
            if not (kind == "q" and inc.private and resident is not None and asked is not None
                    and asked.message_id == inc.message_id):
                return None
            option = pressed_option(asked.expect, key, digit)
            if option is None:
                return None
            return {"value": option.value, "label": option.label, "message_id": asked.message_id,
                    "prompt": asked.expect.prompt}

        pressed = await once("press", press)
        if pressed is None:
            await self._answer_callback(inc.callback_id, phrase("telegram.stale_button", lang))
            return
        if asked is not None and asked.message_id == pressed["message_id"]:
            del self._asked[inc.chat_id]
        try:
            await self._turn(inc, digit, {"keypad": True, "button": pressed["value"]})
        except BaseException:
            if asked is not None and asked.message_id == pressed["message_id"]:
                self._asked.setdefault(inc.chat_id, asked)
            raise
        await self._answer_callback(inc.callback_id, phrase("telegram.answer_taken", lang))
        shown = str((inc.message or {}).get("text") or pressed.get("prompt") or "")
        try:  # the pressed question keeps its text, shows the choice, and loses its buttons
            await once(step_name("edit"), lambda: self.api.edit_text(
                inc.chat_id, int(pressed["message_id"]), f"{shown}\n✓ {pressed.get('label')}"), _none, _none)
        except ChannelError as exc:
            log.info("telegram: pressed question not updated: %s", type(exc).__name__)

    async def _receipt(self, inc: Incoming, notice_id: int) -> None:
        """A resident's "received" under a notice: recorded only for a bound resident of the notice's grid."""
        assert inc.sender is not None and inc.callback_id is not None
        resident = await self._resident(inc.sender.id)
        lang = self._language(inc, resident)
        if resident is None:
            url = f"https://t.me/{self.settings.bot_username}?start=bind"
            await self._answer_callback(inc.callback_id, phrase("telegram.receipt_bind", lang), url)
            return
        notice = await asyncio.to_thread(self.store.get_notice, notice_id)
        if notice is None:
            await self._answer_callback(inc.callback_id, phrase("telegram.stale_button", lang))
            return
        if notice.grid_code != resident.grid_code:  # a forged button, or a group shared with other grids
            log.warning("telegram: a receipt for notice %s refused: the resident is not of its grid", notice_id)
            await self._answer_callback(inc.callback_id, phrase("telegram.receipt_other_grid", lang))
            return
        try:
            await asyncio.to_thread(self.store.record_receipt, notice_id, resident.id, CHANNEL, "acknowledged")
        except NotFound:
            await self._answer_callback(inc.callback_id, phrase("telegram.stale_button", lang))
            return
        await self._answer_callback(inc.callback_id, phrase("telegram.receipt_ok", lang))

    async def _answer_callback(self, query_id: str, note: str, url: str | None = None) -> None:
        try:
            await once(step_name("answer"), lambda: self.api.answer_callback(query_id, note, url), _none, _none)
        except ChannelError as exc:  # the spinner stops by itself; the answer was taken already
            log.info("telegram: callback answer failed: %s", type(exc).__name__)

    async def _render(self, inc: Incoming, replies: Sequence[Reply]) -> None:
        """Send the dialogue's replies; an ``expect`` with options becomes buttons under the last text."""
        chat_id = inc.chat_id
        out: list[list[Any]] = []
        expect: Expect | None = None
        for reply in replies:
            if reply.text:
                labels = [str(b.get("title")) for b in reply.buttons if b.get("title")]
                out.append([reply.text + ("\n" + " / ".join(labels) if labels else ""), None])
            custom = reply.custom or {}
            if isinstance(custom.get("expect"), Mapping):
                expect = Expect.from_payload(custom["expect"])
            handoff = custom.get("handoff")
            if isinstance(handoff, Mapping) and handoff.get("phone"):  # the resident is looked up only for this
                resident = await self._resident(inc.sender.id) if inc.sender else None
                note = phrase("telegram.handoff", self._language(inc, resident), name=handoff.get("name") or "",
                            phone=handoff["phone"])
                out.append([note, None])
        keyboard = question_keyboard(expect)
        if expect is not None and keyboard is not None:
            if not out:
                out.append([expect.prompt or "?", None])
            out[-1][1] = keyboard
        previous = self._asked.pop(chat_id, None)
        if previous is not None:
            try:
                await once(step_name("edit"), lambda: self.api.edit_markup(chat_id, previous.message_id, None),
                           _none, _none)
            except ChannelError as exc:
                log.info("telegram: old buttons not removed: %s", type(exc).__name__)
        base = f"reply:{chat_id}:{inc.message_id or inc.callback_id}"
        for n, (message, markup) in enumerate(out):
            message_id = await self.sender.send_now(chat_id, message, markup, dedupe_key=f"{base}:{n}")
            if markup is not None and message_id is not None and expect is not None:
                self._asked[chat_id] = _Asked(message_id, expect)
