"""Custom actions that run a questionnaire as the generic ``questionnaire_form``.

The campaign engine (``campaigns.engine``) decides everything about the questionnaire; these actions move its
state through Rasa slots, store each answer the moment it is accepted, and say what the engine asks them to say.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from campaigns import engine
from campaigns.answers import NluHints
from campaigns.expect import expectation
from campaigns.phrases import phrase
from campaigns.runner import take_turn
from dialogs.actions.common import RUN_SLOTS, channel_of, entity, hand_over, metadata_of, opt_out, say
from dialogs.actions.services import services
from gridreach.errors import GridReachError

__all__ = [
    "ActionAskAnswer",
    "ActionStartQuestionnaire",
    "ActionSubmitQuestionnaire",
    "ValidateQuestionnaireForm",
]

DEFAULT_QUESTIONNAIRE = "daily_health"


class ActionStartQuestionnaire(Action):
    """Start (or resume) a questionnaire for the resident behind this conversation."""

    def name(self) -> str:
        return "action_start_questionnaire"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return begin(dispatcher, tracker)


def begin(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The slots that start (or resume) the questionnaire the latest message asks for (``/start_questionnaire``)."""
    svc = services()
    text = tracker.latest_message.get("text") or ""
    resident = svc.resident_for(tracker.sender_id)
    language = svc.language_for(text, tracker.get_slot("language"), resident)
    refused = [SlotSet("q_ready", False), SlotSet("language", language), SlotSet("pending_interrupt", None)]
    if resident is None:
        dispatcher.utter_message(text=phrase("not_registered", language))
        return refused
    channel = channel_of(tracker)
    if svc.store.has_opted_out(resident.id, channel):
        dispatcher.utter_message(text=phrase("opted_out_already", language))
        return refused
    q = svc.questionnaire(entity(tracker, "questionnaire") or DEFAULT_QUESTIONNAIRE)
    if q is None:
        dispatcher.utter_message(text=phrase("unknown_questionnaire", language))
        return refused
    if language not in q.languages:
        language = resident.language if resident.language in q.languages else q.languages[0]
    campaign = entity(tracker, "campaign")
    try:
        campaign_id = int(campaign) if campaign else None
        submission_id = svc.store.start_submission(resident.id, q.id, q.version, campaign_id, channel, language)
    except (ValueError, GridReachError):  # a garbled or unknown campaign in the trigger
        dispatcher.utter_message(text=phrase("unknown_questionnaire", language))
        return refused
    previous = tracker.get_slot("q_state")
    if tracker.get_slot("submission_id") == submission_id and previous:
        state = engine.RunState.from_dict(previous)
        texts = engine.repeat(q, state).say
    else:
        step = engine.start(q, language, svc.context_for(resident, metadata_of(tracker).get("today")))
        state, texts = step.state, step.say
    return [
        SlotSet("q_ready", True),
        SlotSet("pending_interrupt", None),
        SlotSet("language", language),
        SlotSet("resident_id", resident.id),
        SlotSet("submission_id", submission_id),
        SlotSet("q_state", state.to_dict()),
        SlotSet("q_say", texts),
        SlotSet("q_answer", None),
    ]


class ValidateQuestionnaireForm(FormValidationAction):
    """Hand each answer to the engine; store what it accepts; keep asking until it is finished."""

    def name(self) -> str:
        return "validate_questionnaire_form"

    async def validate_q_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # rasa_sdk also validates slots just reset to None (at the form's activation)
            return {}
        svc = services()
        raw_state = tracker.get_slot("q_state")
        submission_id = tracker.get_slot("submission_id")
        if not raw_state or submission_id is None:
            return {"q_answer": "done", "q_say": [phrase("nothing_running", tracker.get_slot("language") or "zh")]}
        state = engine.RunState.from_dict(raw_state)
        q = svc.questionnaire(state.questionnaire_id)
        if q is None or q.version != state.version:
            svc.store.finish_submission(submission_id, "abandoned", None)
            return {"q_answer": "done", "q_say": [phrase("unknown_questionnaire", state.language)]}
        latest = tracker.latest_message
        hints = NluHints(
            intent=(latest.get("intent") or {}).get("name"),
            confidence=float((latest.get("intent") or {}).get("confidence") or 0.0),
            entities=list(latest.get("entities") or []),
        )
        metadata = metadata_of(tracker)
        if hints.intent == "start_questionnaire" and str(value).startswith("/"):
            return _trigger_while_running(dispatcher, tracker, state, submission_id)
        resident = svc.resident_for(tracker.sender_id)
        turn = take_turn(
            q,
            state,
            str(value),
            hints=hints,
            confidence=float(metadata.get("asr_confidence", 1.0)),
            keypad=bool(metadata.get("keypad")),
            no_input=bool(metadata.get("no_input")),
            context=svc.context_for(resident, metadata.get("today")),
        )
        step, channel = turn.step, channel_of(tracker)
        if turn.interrupt == "opt_out":
            goodbye = opt_out(tracker, state.language, submission_id)
            return {"q_answer": "done", "q_state": step.state.to_dict(), "q_say": [goodbye]}
        if turn.interrupt == "ask_human":
            hand_over(dispatcher, tracker, state.language)
            again = engine.repeat(q, step.state).say
            return {
                "q_answer": None,
                "q_state": step.state.to_dict(),
                "q_say": [phrase("handoff_continue", state.language), *again],
            }
        if step.accepted is not None:
            svc.store.record_answer(
                submission_id,
                step.accepted.key,
                step.accepted.value,
                step.accepted.raw,
                step.accepted.confidence,
                channel,
                message_id=metadata.get("message_id"),
            )
        if step.finished:
            svc.store.finish_submission(submission_id, step.state.status, step.risk)
        return {
            "q_answer": "done" if step.finished else None,
            "q_state": step.state.to_dict(),
            "q_say": step.say,
        }


def _trigger_while_running(dispatcher: CollectingDispatcher, tracker: Tracker, state: engine.RunState,
                           submission_id: int) -> dict[str, Any]:
    """The app asks for a questionnaire while one runs (a retried call, another campaign's link). The same run goes
    on where it was; another questionnaire or campaign, or a run the store has closed (a dropped call), starts as
    asked, and the run it replaces is closed with its answers kept. (A resident's words never get here: an NLU
    ``start_questionnaire`` guess is an answer to the open question.)"""
    svc = services()
    slots = {e["name"]: e["value"] for e in begin(dispatcher, tracker) if e.get("event") == "slot"}
    if not slots.get("q_ready"):
        q = svc.questionnaire(state.questionnaire_id)
        return {"q_answer": None, "q_state": state.to_dict(),
                "q_say": engine.repeat(q, state).say if q is not None else []}
    if slots["submission_id"] != submission_id:
        current = svc.store.get_submission(submission_id)
        if current is not None and current.status == "in_progress":
            svc.store.finish_submission(submission_id, "abandoned", None)
    slots.pop("q_ready", None)
    return {**slots, "q_answer": None}


class ActionAskAnswer(Action):
    """The form's question: say what the engine queued, or the current question again."""

    def name(self) -> str:
        return "action_ask_q_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        texts = tracker.get_slot("q_say")
        if not texts:
            raw_state = tracker.get_slot("q_state")
            q = services().questionnaire(raw_state["questionnaire_id"]) if raw_state else None
            if q is not None and raw_state:
                texts = engine.repeat(q, engine.RunState.from_dict(raw_state)).say
        say(dispatcher, texts)
        raw_state = tracker.get_slot("q_state")
        q = services().questionnaire(raw_state["questionnaire_id"]) if raw_state else None
        if q is not None and raw_state:
            expected = expectation(q, engine.RunState.from_dict(raw_state))
            if expected is not None:
                dispatcher.utter_message(json_message={"expect": expected})
        return [SlotSet("q_say", None)]


class ActionSubmitQuestionnaire(Action):
    """Say the closing message (the submission was already finished by the validator) and reset the run."""

    def name(self) -> str:
        return "action_submit_questionnaire"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        say(dispatcher, tracker.get_slot("q_say"))
        return [SlotSet(name, None) for name in RUN_SLOTS] + [SlotSet("q_ready", None)]
