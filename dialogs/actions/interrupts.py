"""Actions for what a resident may say at any moment: stop, ask for a person, greet, ask for help.

Outside a questionnaire as inside one (``campaigns.runner``), an opt-out or a hand-over happens on an explicit phrase
("别再打了", "找网格员") or on the classifier's guess confirmed by the resident: the guess alone is asked back
("您是说以后不要再联系您了吗？") and the answer to that question is settled by ``action_respond``.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from campaigns._confirm import read_confirmation
from campaigns.interrupts import detect_interrupt
from campaigns.phrases import phrase
from dialogs.actions.common import RUN_SLOTS, hand_over, opt_out
from dialogs.actions.services import services

__all__ = ["ActionHandoff", "ActionOptOut", "ActionRespond"]

# What action_respond says for each intent when no questionnaire is waiting for an answer.
_REPLY_FOR_INTENT = {
    "greet": "greeting",
    "goodbye": "goodbye",
    "help": "help",
    "out_of_scope": "out_of_scope",
    "affirm": "nothing_running",
    "deny": "nothing_running",
    "not_sure": "nothing_running",
    "inform": "nothing_running",
}


def _language(tracker: Tracker) -> str:
    svc = services()
    return svc.language_for("", tracker.get_slot("language"), svc.resident_for(tracker.sender_id))


def _explicit(tracker: Tracker, kind: str) -> bool:
    """The resident said it in so many words ("别再打了"), or keyed it, or confirmed our question about it."""
    text = tracker.latest_message.get("text") or ""
    if detect_interrupt(text) == kind:
        return True
    return tracker.get_slot("pending_interrupt") == kind and read_confirmation(text) == "yes"


def _ask_back(dispatcher: CollectingDispatcher, tracker: Tracker, kind: str) -> list[EventType]:
    dispatcher.utter_message(text=phrase(f"confirm_{kind}", _language(tracker)))
    return [SlotSet("pending_interrupt", kind)]


def _do_opt_out(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    dispatcher.utter_message(text=opt_out(tracker, _language(tracker), tracker.get_slot("submission_id")))
    return [ActiveLoop(None), *(SlotSet(name, None) for name in RUN_SLOTS), SlotSet("q_ready", None),
            SlotSet("pending_interrupt", None)]


class ActionOptOut(Action):
    """Record the opt-out for this channel, close any running questionnaire (answers kept), confirm; on the
    classifier's guess alone, ask first."""

    def name(self) -> str:
        return "action_opt_out"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not _explicit(tracker, "opt_out"):
            return _ask_back(dispatcher, tracker, "opt_out")
        return _do_opt_out(dispatcher, tracker)


class ActionHandoff(Action):
    """A resident wants a person (outside a questionnaire; inside one the form's validator hands over)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not _explicit(tracker, "ask_human"):
            return _ask_back(dispatcher, tracker, "ask_human")
        hand_over(dispatcher, tracker, _language(tracker))
        return [SlotSet("pending_interrupt", None)]


class ActionRespond(Action):
    """One reply for greetings, help, off-topic messages and messages not understood."""

    def name(self) -> str:
        return "action_respond"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending = tracker.get_slot("pending_interrupt")
        if pending == "opt_out" and _explicit(tracker, "opt_out"):
            return _do_opt_out(dispatcher, tracker)
        if pending == "ask_human" and _explicit(tracker, "ask_human"):
            hand_over(dispatcher, tracker, _language(tracker))
            return [SlotSet("pending_interrupt", None)]
        svc = services()
        resident = svc.resident_for(tracker.sender_id)
        text = tracker.latest_message.get("text") or ""
        language = svc.language_for(text, tracker.get_slot("language"), resident)
        if pending is not None and read_confirmation(text) == "no":
            dispatcher.utter_message(text=phrase("not_opted_out", language))
            return [SlotSet("language", language), SlotSet("pending_interrupt", None)]
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        key = _REPLY_FOR_INTENT.get(intent, "rephrase")
        if intent == "help" and tracker.active_loop.get("name"):
            key = "help_questionnaire"
        community = resident.community_name if resident else ""
        dispatcher.utter_message(text=phrase(key, language, community=community))
        return [SlotSet("language", language), SlotSet("pending_interrupt", None)]
