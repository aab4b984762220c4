"""Small pieces shared by the actions: reading the tracker, speaking, handing over to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from campaigns.phrases import phrase
from dialogs.actions.services import services

__all__ = [
    "RUN_SLOTS", "UNTRUSTED_CHANNELS", "channel_of", "entity", "hand_over", "metadata_of", "opt_out", "say",
    "trusted",
]

RUN_SLOTS = ("q_state", "q_say", "submission_id", "q_answer")


def entity(tracker: Tracker, name: str) -> str | None:
    value = next(tracker.get_latest_entity_values(name), None)
    return None if value is None else str(value)


# Rasa's own input channels that anyone who reaches Rasa's port may post to: the metadata of their messages
# (``keypad``, ``asr_confidence``, ``message_id``, ``today``, ``no_input``, ``channel``, ...) is the sender's
# word, not a connector's, and is dropped. GridReach's connectors and its token-checked REST channel
# (``dialogs.channel``) authenticate their callers, so their metadata is kept. (Rasa's built-in ``telegram``
# channel is not listed: GridReach's own Telegram connector uses that name in the embedded runtime.)
UNTRUSTED_CHANNELS = frozenset({
    "rest", "callback", "socketio", "cmdline", "rasa", "botframework", "facebook", "slack", "mattermost", "rocketchat", "twilio", "twilio_voice", "webexteams", "hangouts", "audiocodes", "vonage",
    "genesys", "jambonz",
})


def trusted(tracker: Tracker) -> bool:
    """Whether the latest message came through a channel whose metadata GridReach may believe."""
    return tracker.get_latest_input_channel() not in UNTRUSTED_CHANNELS


def metadata_of(tracker: Tracker) -> dict[str, Any]:
    """The latest message's metadata; empty when it came through an untrusted channel (``UNTRUSTED_CHANNELS``)."""
    if not trusted(tracker):
        return {}
    return dict(tracker.latest_message.get("metadata") or {})


def channel_of(tracker: Tracker) -> str:
    return str(metadata_of(tracker).get("channel") or tracker.get_latest_input_channel() or "chat")


def say(dispatcher: CollectingDispatcher, texts: list[str] | None) -> None:
    for text in texts or []:
        dispatcher.utter_message(text=text)


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
    """Tell the resident their grid worker will call; record the request; give the phone a transfer target."""
    svc = services()
    resident = svc.resident_for(tracker.sender_id)
    if resident is None:
        dispatcher.utter_message(text=phrase("not_registered", language))
        return
    worker = svc.store.grid_worker_for(resident.grid_code)
    svc.store.audit(
        f"resident:{resident.id}", "handoff_requested", "resident", str(resident.id), {"channel": channel_of(tracker)}
    )
    dispatcher.utter_message(text=phrase("handoff", language, grid_worker=worker.name if worker else ""))
    if worker is not None:
        dispatcher.utter_message(json_message={"handoff": {"phone": worker.phone, "name": worker.name}})


def opt_out(tracker: Tracker, language: str, submission_id: int | None) -> str:
    """Record the resident's opt-out on this channel, abandon the running submission (its answers are kept),
    and return the confirmation to say."""
    svc = services()
    resident = svc.resident_for(tracker.sender_id)
    if resident is not None:
        svc.store.record_opt_out(resident.id, channel_of(tracker), "resident asked to stop")
    if submission_id is not None:
        svc.store.finish_submission(submission_id, "abandoned", None)
    worker = resident.grid_worker_name if resident else None
    return phrase("opt_out_confirmed", language, grid_worker=worker or "")
