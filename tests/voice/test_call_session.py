"""The call session over a real Media Stream websocket: keys, speech, silence, barge-in, transfer, hang-up.

The dialogue, recogniser and synthesiser are our own ports replaced by scripted stand-ins (tests/voice/call_kit.py);
Twilio's side is the documented Media Streams protocol. Real Vosk, pyttsx3 and Rasa: test_call_e2e.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gridreach.errors import TelephonyError
from gridreach_app.dialogue import Reply
from tests.voice.call_kit import (
    FakeSpeaker,
    Heard,
    ListenerKit,
    RecordingTelephony,
    ScriptedDialogue,
    ask,
    running,
    seed,
)

CALL = "CA" + "1" * 32
WORKER = {"handoff": {"phone": "+8613800138000", "name": "王网格"}}


async def call(store: Any, dialogue: ScriptedDialogue, play: Any, *, listeners: ListenerKit | None = None,
               speaker: FakeSpeaker | None = None, telephony: Any = None, echo_delay: float = 0.0,
               **settings: Any) -> dict[str, Any]:
    """Run one call: ``play(phone)`` acts the resident; returns what happened."""
    resident = seed(store)
    telephony = telephony or RecordingTelephony()
    async with running(store, dialogue, speaker=speaker, listeners=listeners, telephony=telephony, **settings) as r:
        attempt = r.attempt(store, resident.id)
        phone = await r.phone(CALL, echo_delay=echo_delay)
        await phone.start(attempt)
        await play(phone)
        await asyncio.wait_for(phone.closed.wait(), 15)
        await r.server.wait_ended(attempt, timeout=0.1)
        result = r.server.results[attempt]
    return {"result": result, "phone": phone, "telephony": telephony, "resident": resident,
            "attempt": store.get_contact_attempt(attempt), "turns": dialogue.turns}


def metadata(turns: list[Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in t[3].items() if k != "channel"} for t in turns]


async def test_a_keypad_and_speech_call_sends_each_answer_with_its_metadata(store: Any) -> None:
    dialogue = ScriptedDialogue(store, [ask("Q1"), ask("Q2 temperature", "number"), ask("Q3"), [Reply("thanks")]],
                                finish_with="complete")
    listeners = ListenerKit([Heard("没有", 0.62)])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(2)  # greeting, then Q1
        await phone.key("1")
        await phone.wait_marks(3)
        for key in "37*5#":
            await phone.key(key)
        await phone.wait_marks(4)
        await phone.say()

    done = await call(store, dialogue, resident, listeners=listeners)
    turns = done["turns"]
    assert [t[1] for t in turns][1:] == ["1", "37*5", "没有"]
    assert turns[0][1] == '/start_questionnaire{"questionnaire": "daily_health"}'
    assert all(t[0] == f"resident-{done['resident'].id}" and t[2] == "voice" for t in turns)
    assert metadata(turns) == [
        {"message_id": f"{CALL}:0"},
        {"message_id": f"{CALL}:1", "keypad": True},
        {"message_id": f"{CALL}:2", "keypad": True},
        {"message_id": f"{CALL}:3", "asr_confidence": 0.62},
    ]
    assert [e.type for e in listeners.built] == ["yes_no", "number", "yes_no"]
    assert done["telephony"].hangups == [CALL]
    result = done["result"]
    assert (result.result, result.turns) == ("complete", 4)
    assert done["attempt"].detail["call_result"] == "complete"
    assert store.get_submission(result.submission_id).status == "complete"


async def test_digits_without_hash_are_taken_after_the_inter_digit_pause(store: Any) -> None:
    dialogue = ScriptedDialogue(store, [ask("Q temperature", "number"), [Reply("bye")]])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(2)
        await phone.key("3")
        await phone.key("8")

    done = await call(store, dialogue, resident, digit_timeout=0.2)
    assert done["turns"][1][1] == "38" and done["turns"][1][3]["keypad"] is True


async def test_silence_is_no_input_and_a_silent_line_is_hung_up(store: Any) -> None:
    dialogue = ScriptedDialogue(store, [ask("Q1"), ask("Q1 again"), ask("Q2"), ask("Q3")])

    async def resident(phone: Any) -> None:
        await phone.media(b"\xff" * 160, 5)  # an open, silent line

    done = await call(store, dialogue, resident, silence_timeout=0.2, max_silent_tries=2)
    turns = done["turns"]
    assert [(t[1], t[3].get("no_input")) for t in turns[1:]] == [("", True)]  # the second silence ends the call
    assert done["result"].result == "gone" and done["telephony"].hangups == [CALL]
    assert store.get_submission(done["result"].submission_id).status == "partial"


async def test_the_silence_timer_starts_when_the_prompt_has_played(store: Any) -> None:
    dialogue = ScriptedDialogue(store, [ask("Q1"), [Reply("bye")]])

    async def resident(phone: Any) -> None:
        await phone.media(b"\xff" * 160, 3)

    done = await call(store, dialogue, resident, silence_timeout=0.3, echo_delay=0.5)
    phone = done["phone"]
    assert done["turns"][1][3]["no_input"] is True
    # the question's mark was echoed (played) 0.5 s after it was sent; silence is counted from then
    assert dialogue.times[1] - phone.echoed_at[1] >= 0.3 * 0.9


async def test_speaking_over_a_prompt_stops_it(store: Any) -> None:
    speaker = FakeSpeaker(long={"a very long question"})
    dialogue = ScriptedDialogue(store, [ask("a very long question"), [Reply("bye")]])
    listeners = ListenerKit([Heard("有", 0.9)])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(1)  # the greeting has been sent; now the long question is playing
        while len(phone.events("media")) < 5:
            await asyncio.sleep(0.01)
        await phone.say()

    done = await call(store, dialogue, resident, listeners=listeners, speaker=speaker)
    phone = done["phone"]
    assert len(phone.events("clear")) == 1
    assert len(phone.events("media")) < 8000 * 4 // 800  # the 4 s question was not sent to its end
    assert done["turns"][1][1] == "有" and done["result"].barge_ins == 1


async def test_a_key_over_a_prompt_stops_it(store: Any) -> None:
    speaker = FakeSpeaker(long={"a very long question"})
    dialogue = ScriptedDialogue(store, [ask("a very long question"), [Reply("bye")]])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(1)
        while len(phone.events("media")) < 5:
            await asyncio.sleep(0.01)
        await phone.key("2")

    done = await call(store, dialogue, resident, speaker=speaker)
    assert len(done["phone"].events("clear")) == 1 and done["turns"][1][1] == "2"


async def test_hanging_up_mid_questionnaire_keeps_answers_and_marks_it_partial(store: Any) -> None:
    dialogue = ScriptedDialogue(store, [ask("Q1"), ask("Q2"), ask("Q3")])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(2)
        await phone.key("1")
        await phone.wait_marks(3)
        await phone.stop()

    done = await call(store, dialogue, resident)
    submission = store.get_submission(done["result"].submission_id)
    assert submission.status == "partial" and len(done["turns"]) == 2
    assert done["attempt"].detail["call_result"] == "partial"
    assert done["telephony"].hangups == []


async def test_a_dropped_websocket_is_a_partial_submission_too(store: Any) -> None:
    dialogue = ScriptedDialogue(store, [ask("Q1"), ask("Q2")])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(2)
        await phone.ws.close()

    done = await call(store, dialogue, resident)
    assert store.get_submission(done["result"].submission_id).status == "partial"


async def test_asking_for_a_person_transfers_the_call(store: Any) -> None:
    handed = [Reply("已通知网格员王网格"), Reply(custom=WORKER), Reply("我们先继续回答问题。"), *ask("Q1 again")]
    dialogue = ScriptedDialogue(store, [ask("Q1"), handed])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(2)
        await phone.key("0")
        await phone.wait_marks(3)  # the hand-over is said, then the call is redirected: Twilio stops the stream
        while not store.audit_entries("contact_attempt"):
            await asyncio.sleep(0.01)
        await phone.stop()

    done = await call(store, dialogue, resident)
    assert done["telephony"].transfers == [(CALL, "+8613800138000")]
    assert done["result"].result == "transferred" and done["attempt"].detail["call_result"] == "transferred"
    assert [e.action for e in store.audit_entries("contact_attempt")] == ["call.transfer"]
    assert store.get_submission(done["result"].submission_id).status == "partial"


class BrokenTelephony(RecordingTelephony):
    async def transfer(self, call_sid: str, phone: str) -> None:
        raise TelephonyError("Twilio refused to redirect a call: HTTP 500", status=500, retryable=True)


async def test_a_failed_transfer_goes_on_with_the_questionnaire(store: Any) -> None:
    handed = [Reply("已通知网格员"), Reply(custom=WORKER), Reply("我们先继续回答问题。"), *ask("Q1 again")]
    dialogue = ScriptedDialogue(store, [ask("Q1"), handed, [Reply("bye")]], finish_with="complete")

    async def resident(phone: Any) -> None:
        await phone.wait_marks(2)
        await phone.key("0")
        await phone.wait_marks(3)
        await phone.key("2")

    done = await call(store, dialogue, resident, telephony=BrokenTelephony())
    assert [t[1] for t in done["turns"]][1:] == ["0", "2"]
    assert done["result"].result == "complete"
    assert [e.action for e in store.audit_entries("contact_attempt")] == ["call.transfer_failed"]


async def test_failed_synthesis_and_recognition_are_no_answer_not_a_crash(store: Any) -> None:
    speaker = FakeSpeaker(broken={"Q1"})
    dialogue = ScriptedDialogue(store, [ask("Q1"), [Reply("bye")]])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(2)
        await phone.say()

    done = await call(store, dialogue, resident, speaker=speaker, listeners=ListenerKit(fail=True))
    assert done["turns"][1][3]["no_input"] is True and done["telephony"].hangups == [CALL]


async def test_unreadable_speech_is_no_input(store: Any) -> None:
    dialogue = ScriptedDialogue(store, [ask("Q1"), [Reply("bye")]])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(2)
        await phone.say()

    done = await call(store, dialogue, resident, listeners=ListenerKit([Heard("", 0.0)]))
    assert done["turns"][1][1] == "" and done["turns"][1][3]["no_input"] is True


async def test_cached_prompts_are_not_synthesised_during_the_call(store: Any) -> None:
    speaker = FakeSpeaker(cache={"Q1", "bye", "再见，祝您健康。"})
    dialogue = ScriptedDialogue(store, [ask("Q1"), [Reply("bye")]])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(2)
        await phone.key("1")

    done = await call(store, dialogue, resident, speaker=speaker)
    assert len(speaker.synthesised) == 1 and "幸福社区" in speaker.synthesised[0]  # only the greeting
    assert done["result"].live_syntheses == 1
    assert speaker.kept == []  # what was not prepared may hold an answer: never written to the speech cache


async def test_a_failed_dialogue_turn_is_retried_once_with_the_same_message_id(store: Any) -> None:
    dialogue = ScriptedDialogue(store, [ask("Q1"), [Reply("bye")]])

    async def resident(phone: Any) -> None:
        await phone.wait_marks(2)
        dialogue.fail_next = 1
        await phone.key("1")

    done = await call(store, dialogue, resident)
    assert metadata(done["turns"])[1] == {"message_id": f"{CALL}:1", "keypad": True}


def test_keypad_rules_per_question_type() -> None:
    from voice_caller.keypad import KeypadCollector

    yes_no = KeypadCollector("yes_no")
    assert (yes_no.press("#"), yes_no.press("2")) == (None, "2")
    assert KeypadCollector("choice").press("4") == "4" and KeypadCollector("confirm").press("1") == "1"
    number = KeypadCollector("number")
    assert [number.press(k) for k in "37*5"] == [None] * 4 and number.pending
    assert number.press("#") == "37*5" and not number.pending
    assert number.press("#") is None  # nothing collected: no answer
    date = KeypadCollector("date")
    assert date.press("0") is None and date.press("x") is None and date.flush() == "0" and date.flush() is None
    repeat = KeypadCollector("number")
    repeat.press("*")
    assert repeat.flush() == "*"  # the engine reads a lone * as "say it again"
