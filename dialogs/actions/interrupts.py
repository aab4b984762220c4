"""Actions for what a resident may say at any moment: stop, ask for a person, greet, ask for help."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

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


class ActionOptOut(Action):
    """Record the opt-out for this channel, close any running questionnaire (answers kept), confirm."""

    def name(self) -> str:
        return "action_opt_out"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        svc = services()
        language = svc.language_for("", tracker.get_slot("language"), svc.resident_for(tracker.sender_id))
        dispatcher.utter_message(text=opt_out(tracker, language, tracker.get_slot("submission_id")))
        return [ActiveLoop(None), *(SlotSet(name, None) for name in RUN_SLOTS), SlotSet("q_ready", None)]


class ActionHandoff(Action):
    """A resident wants a person (outside a questionnaire; inside one the form's validator hands over)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        svc = services()
        resident = svc.resident_for(tracker.sender_id)
        hand_over(dispatcher, tracker, svc.language_for("", tracker.get_slot("language"), resident))
        return []


class ActionRespond(Action):
    """One reply for greetings, help, off-topic messages and messages not understood."""

    def name(self) -> str:
        return "action_respond"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        svc = services()
        resident = svc.resident_for(tracker.sender_id)
        text = tracker.latest_message.get("text") or ""
        language = svc.language_for(text, tracker.get_slot("language"), resident)
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        key = _REPLY_FOR_INTENT.get(intent, "rephrase")
        if intent == "help" and tracker.active_loop.get("name"):
            key = "help_questionnaire"
        community = resident.community_name if resident else ""
        dispatcher.utter_message(text=phrase(key, language, community=community))
        return [SlotSet("language", language)]
