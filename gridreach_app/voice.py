"""The voice caller wired: settings from the environment, the dialogue, speech models, the prompt cache, the
webhook server, the dialer; and ``gridreach call``.

Start-up checks come first and fail fast with a message naming what is missing: the Twilio settings
(``ConfigError`` naming the variable), then the speech model of the language to be spoken
(``SpeechModelMissing`` says what to download and where), and only then the Rasa core is loaded.
Every fixed prompt of the questionnaire, and each resident's greeting, is synthesised before the first call.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from campaigns import QUESTIONNAIRE_DIR, Questionnaire, load_directory
from gridreach.errors import NotFound
from gridreach.settings import Settings
from gridreach.store import Store
from gridreach.views import ResidentView
from gridreach_app.runtime import open_runtime
from voice_caller.asr import SpeechModels
from voice_caller.assemble import assemble
from voice_caller.config import VoiceSettings
from voice_caller.dialer import Dialer, DialOutcome
from voice_caller.prompts import fixed_prompts
from voice_caller.server import VoiceServer
from voice_caller.tts import Speaker

__all__ = ["VoiceApp", "call_language", "open_voice", "run_call"]


def call_language(resident: ResidentView, q: Questionnaire) -> str:
    """The language a call to ``resident`` speaks (as the dialogue decides it: theirs, if the questionnaire has it)."""
    return resident.language if resident.language in q.languages else q.languages[0]


@dataclass
class VoiceApp:
    """Everything a voice job needs, started."""

    voice: VoiceSettings
    store: Store
    server: VoiceServer
    dialer: Dialer
    speaker: Speaker
    models: SpeechModels
    questionnaires: dict[str, Questionnaire]

    def questionnaire(self, questionnaire_id: str) -> Questionnaire:
        q = self.questionnaires.get(questionnaire_id)
        if q is None:
            raise NotFound(f"unknown questionnaire {questionnaire_id!r}")
        return q

    async def prepare(self, residents: Iterable[ResidentView], questionnaire_id: str) -> int:
        """Synthesise ahead what these calls will say that is known in advance; returns how many were new."""
        q = self.questionnaire(questionnaire_id)
        grids: dict[tuple[str, str, str], None] = {}
        for resident in residents:
            worker = await asyncio.to_thread(self.store.grid_worker_for, resident.grid_code)  # off the loop
            grids[(call_language(resident, q), resident.community_name, worker.name if worker else "")] = None
        texts: dict[str, set[str]] = {}
        for language, community, worker_name in grids:
            fields = {"community": community, "grid_worker": worker_name}  # the greeting, the hand-over...
            texts.setdefault(language, set()).update(fixed_prompts(q, language, fields=fields))
        made = 0
        for language, wanted in texts.items():
            made += await self.speaker.prepare(sorted(wanted), language)
        return made


    async def call_all(self, residents: Iterable[ResidentView], questionnaire_id: str,
                       campaign_id: int | None = None) -> Sequence[DialOutcome]:
        """Check the speech models, synthesise the prompts ahead, then call everyone (paced); returns per resident."""
        q = self.questionnaire(questionnaire_id)
        people = list(residents)
        loop = asyncio.get_running_loop()
        for language in sorted({call_language(r, q) for r in people}):
            await loop.run_in_executor(None, self.models.model, language)  # SpeechModelMissing says what to get
        await self.prepare(people, q.id)
        return await self.dialer.dial(people, q.id, campaign_id)


@asynccontextmanager
async def open_voice(settings: Settings, environ: Mapping[str, str] | None = None,
                     models: SpeechModels | None = None) -> AsyncIterator[VoiceApp]:
    """Voice settings, the runtime (store + dialogue, wrapped in OnceOnly), speech, the server listening."""
    voice = VoiceSettings.from_env(os.environ if environ is None else environ, home=settings.home)
    async with open_runtime(settings) as rt:
        parts = assemble(voice, rt.store, rt.dialogue, models)
        try:
            await parts.server.start()
            try:
                yield VoiceApp(voice, rt.store, parts.server,
                               Dialer(voice, rt.store, parts.telephony, parts.server), parts.speaker, parts.models,
                               load_directory(QUESTIONNAIRE_DIR))
            finally:
                await parts.server.stop()
        finally:
            parts.close()


def _who(store: Store, phone: str | None, resident_id: int | None) -> ResidentView | None:
    if phone:
        return store.find_resident_by_phone(phone)
    return store.get_resident(resident_id) if resident_id is not None else None


async def run_call(settings: Settings, *, phone: str | None, resident_id: int | None, questionnaire: str,
                   campaign: int | None, timeout: float = 1800.0, environ: Mapping[str, str] | None = None) -> int:
    """``gridreach call``: place one call, wait for it to end, print the outcome and the submission's status."""
    env = os.environ if environ is None else environ
    voice = VoiceSettings.from_env(env, home=settings.home)  # a missing Twilio setting stops us here
    settings.home.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(settings.database_url)
    try:
        store.migrate()
        resident = _who(store, phone, resident_id)
        if resident is None:
            print("No such resident. Import residents first (gridreach residents import FILE).", file=sys.stderr)
            return 2
        if campaign is not None:
            found = store.get_campaign(campaign)
            if found is None:
                raise NotFound(f"unknown campaign {campaign}")
            questionnaire = found.questionnaire_id
        q = load_directory(QUESTIONNAIRE_DIR).get(questionnaire)
        if q is None:
            raise NotFound(f"unknown questionnaire {questionnaire!r}")
    finally:
        store.close()
    models = SpeechModels(voice.speech_models_dir)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, models.model, call_language(resident, q))  # SpeechModelMissing says what to get
    async with open_voice(settings, env, models) as app:
        await app.prepare([resident], q.id)
        placed = await app.dialer.place(resident, q.id, campaign)
        return await _report(app, placed, await _wait(app, placed, timeout))


async def _wait(app: VoiceApp, placed: DialOutcome, timeout: float) -> Any:
    if placed.attempt_id is None or placed.outcome == "skipped":
        return None
    print(f"Calling resident #{placed.resident_id} ({placed.outcome}); waiting for the call to end...")
    return await app.server.wait_ended(placed.attempt_id, timeout)


async def _report(app: VoiceApp, placed: DialOutcome, attempt: Any) -> int:
    if placed.outcome == "skipped" and placed.reason == "called_recently":
        when = f"{placed.not_before:%Y-%m-%d %H:%M} UTC" if placed.not_before else "later"
        print(f"Not called: this resident was called recently (contact attempt #{placed.attempt_id}); the next call "
              f"is allowed after {when}. The interval is GRIDREACH_CALL_MIN_INTERVAL.")
        return 3
    if placed.outcome == "skipped":
        print(f"Not called: {placed.reason}.")
        return 3
    if placed.outcome == "unconfirmed":
        print(f"Whether Twilio placed the call is unknown (contact attempt #{placed.attempt_id}): {placed.reason}. "
              "It is not placed again; check the Twilio console.")
        return 3
    if placed.outcome == "failed" or attempt is None:
        print(f"The call could not be placed: {placed.reason}")
        return 3
    detail = attempt.detail or {}
    print(f"Call outcome: {attempt.outcome}" + (f" (answered by {detail['answered_by']})"
                                                 if detail.get("answered_by") else ""))
    submission_id = detail.get("submission_id")
    submission = await asyncio.to_thread(app.store.get_submission, int(submission_id)) if submission_id else None
    if submission is None:
        print("No questionnaire was run on this call.")
    else:
        print(f"Submission #{submission.id}: {submission.status}, {len(submission.answers)} answers stored"
              + (f", risk {submission.risk_level}" if submission.risk_level else "") + ".")
    print("See all answers per grid: gridreach report")
    return 0 if attempt.outcome == "completed" else 3

