"""The voice server with its real parts (Vosk listeners, the pyttsx3 speaker, Twilio), assembled in one place for
``gridreach serve`` (``voice_caller.connector``) and ``gridreach call`` (``gridreach_app.voice``)."""

from __future__ import annotations

from dataclasses import dataclass

from gridreach.dialogue import Dialogue
from gridreach.store import Store
from voice_caller.asr import SpeechModels
from voice_caller.call import speech_listeners
from voice_caller.config import VoiceSettings
from voice_caller.server import VoiceServer
from voice_caller.tts import Speaker
from voice_caller.twilio_api import TwilioTelephony

__all__ = ["VoiceParts", "assemble"]


@dataclass
class VoiceParts:
    """What ``assemble`` made; ``close()`` after the server stopped."""

    server: VoiceServer
    speaker: Speaker
    telephony: TwilioTelephony
    models: SpeechModels

    def close(self) -> None:
        self.speaker.close()


def assemble(settings: VoiceSettings, store: Store, dialogue: Dialogue, models: SpeechModels | None = None) -> VoiceParts:
    """The server (not started), its speaker, Twilio and the speech models (loaded when first needed)."""
    models = models or SpeechModels(settings.speech_models_dir)
    speaker = Speaker(settings.tts_cache_dir)
    telephony = TwilioTelephony(settings)
    server = VoiceServer(settings, store, dialogue=dialogue, speaker=speaker, listeners=speech_listeners(models),
                         telephony=telephony)
    return VoiceParts(server, speaker, telephony, models)
