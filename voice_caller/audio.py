"""Telephone audio: G.711 μ-law, 16-bit PCM, band-limited resampling, 20 ms frames, loudness.

A Twilio Media Stream carries 8 kHz μ-law mono in 20 ms frames (160 bytes). The small Vosk models want 16 kHz
16-bit PCM; pyttsx3 (espeak-ng) writes 22.05 kHz WAV. Every conversion here is what a phone line does:
resampling low-passes first (a windowed-sinc polyphase filter), so speech made at 22 kHz is band-limited to the
telephone band instead of aliasing its fricatives into noise, and 8 → 16 kHz upsampling leaves the upper band
empty instead of mirroring the lower one into it.

Samples are little-endian signed 16-bit (``audioop`` conventions); odd trailing bytes are ignored.
"""

from __future__ import annotations

import audioop
import io
import math
import wave
from functools import lru_cache

import numpy as np

__all__ = [
    "FRAME_BYTES",
    "FRAME_MS",
    "SAMPLE_RATE_ASR",
    "SAMPLE_RATE_PHONE",
    "ULAW_SILENCE",
    "AudioFormatError",
    "Resampler",
    "pcm16_to_ulaw",
    "rms",
    "ulaw_frames",
    "ulaw_to_pcm16",
    "wav_to_pcm16",
    "wav_to_ulaw8k",
]

SAMPLE_RATE_PHONE = 8000
SAMPLE_RATE_ASR = 16000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE_PHONE * FRAME_MS // 1000  # 160 μ-law bytes = 20 ms at 8 kHz
ULAW_SILENCE = b"\xff"  # the μ-law code of a zero sample

_HALF_TAPS = 16  # filter half-width, in samples at the lower of the two rates
_KAISER_BETA = 8.0
_PASSBAND = 0.9  # cut-off as a fraction of the lower Nyquist frequency (3.6 kHz for a phone line)


class AudioFormatError(ValueError):
    """The bytes given are not audio this module can read (bad WAV header, unsupported sample width...)."""


def _even(data: bytes) -> bytes:
    return data if len(data) % 2 == 0 else data[:-1]


def ulaw_to_pcm16(data: bytes) -> bytes:
    """G.711 μ-law bytes → 16-bit PCM (two bytes per input byte)."""
    return audioop.ulaw2lin(bytes(data), 2)


def pcm16_to_ulaw(data: bytes) -> bytes:
    """16-bit PCM → G.711 μ-law (one byte per sample); a trailing odd byte is dropped."""
    return audioop.lin2ulaw(_even(bytes(data)), 2)


def rms(pcm16: bytes) -> float:
    """Root mean square of 16-bit PCM samples (0.0 for no samples); speech on a phone line is ~500-5000."""
    data = _even(bytes(pcm16))
    return float(audioop.rms(data, 2)) if data else 0.0


@lru_cache(maxsize=16)
def _polyphase(up: int, down: int) -> tuple[np.ndarray, int]:
    """The (up, taps) polyphase matrix of a Kaiser-windowed sinc low-pass for rate change up/down."""
    taps = 2 * _HALF_TAPS * max(1, math.ceil(down / up))  # per phase, in input samples
    n = np.arange(taps * up) - (taps * up - 1) / 2.0
    cutoff = _PASSBAND / max(up, down)  # normalised to the upsampled Nyquist frequency
    h = cutoff * np.sinc(cutoff * n) * np.kaiser(taps * up, _KAISER_BETA) * up
    return h.reshape(taps, up).T.copy(), taps


class Resampler:
    """Streaming rate converter for 16-bit PCM: ``convert`` chunk after chunk, state kept in between.

    A rational polyphase FIR (L/M = dst/src reduced): the output of a stream converted in pieces equals the
    output of converting it whole. ``flush()`` returns the samples still held back by the filter's delay
    (``delay`` input samples, under 3 ms at 8 kHz). Equal rates pass the audio through untouched.
    """

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        if src_rate <= 0 or dst_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {src_rate} → {dst_rate}")
        self.src_rate, self.dst_rate = int(src_rate), int(dst_rate)
        g = math.gcd(self.src_rate, self.dst_rate)
        self._up, self._down = self.dst_rate // g, self.src_rate // g
        self._bank, self._taps = _polyphase(self._up, self._down)
        self._history = np.zeros(self._taps - 1, dtype=np.float64)
        self._consumed = 0  # input samples seen so far
        self._produced = 0  # output samples produced so far
        self.delay = self._taps // 2

    def convert(self, pcm16: bytes) -> bytes:
        """Resample the next chunk; returns what is ready (possibly empty for a tiny chunk)."""
        if self._up == self._down:
            return _even(bytes(pcm16))
        x = np.frombuffer(_even(bytes(pcm16)), dtype="<i2").astype(np.float64)
        return self._run(x)

    def flush(self) -> bytes:
        """The filter's tail: feed silence for its delay and return the last samples of the stream."""
        if self._up == self._down:
            return b""
        return self._run(np.zeros(self.delay, dtype=np.float64))

    def _run(self, x: np.ndarray) -> bytes:
        buf = np.concatenate([self._history, x])
        self._consumed += len(x)
        # output n sits at upsampled index k = n*down; it needs input up to k // up
        last = (self._consumed * self._up - 1) // self._down  # last output whose input has arrived
        n = np.arange(self._produced, last + 1)
        self._history = buf[len(buf) - (self._taps - 1):] if self._taps > 1 else buf[:0]
        if len(n) == 0:
            return b""
        self._produced = last + 1
        k = n * self._down
        phase = k % self._up
        newest = k // self._up - (self._consumed - len(x)) + (self._taps - 1)  # index into buf
        idx = newest[:, None] - np.arange(self._taps)[None, :]
        y = np.einsum("ij,ij->i", self._bank[phase], buf[idx])
        return np.clip(np.rint(y), -32768, 32767).astype("<i2").tobytes()


def wav_to_pcm16(wav_bytes: bytes) -> tuple[bytes, int]:
    """A WAV file (any rate, 1-2 channels, 8/16/24/32-bit PCM) → (16-bit mono PCM, its rate)."""
    try:
        with wave.open(io.BytesIO(wav_bytes), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError, ValueError) as exc:  # wave raises these for a bad header
        raise AudioFormatError(f"not a PCM WAV file: {exc}") from exc
    if width not in (1, 2, 3, 4) or channels < 1 or rate <= 0:
        raise AudioFormatError(f"unsupported WAV: {channels} channel(s), {width}-byte samples, {rate} Hz")
    frames = frames[: len(frames) - len(frames) % (width * channels)]
    if width == 1:
        frames = audioop.bias(frames, 1, -128)  # 8-bit WAV is unsigned
    if width != 2:
        frames = audioop.lin2lin(frames, width, 2)
    if channels == 2:
        frames = audioop.tomono(frames, 2, 0.5, 0.5)
    elif channels > 2:
        samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels).mean(axis=1)
        frames = np.rint(samples).astype("<i2").tobytes()
    return frames, rate


def wav_to_ulaw8k(wav_bytes: bytes) -> bytes:
    """A WAV file of any rate, channel count and sample width → 8 kHz μ-law mono, band-limited like a phone."""
    pcm, rate = wav_to_pcm16(wav_bytes)
    resampler = Resampler(rate, SAMPLE_RATE_PHONE)
    out = resampler.convert(pcm) + resampler.flush()
    skip = 2 * (resampler.delay * SAMPLE_RATE_PHONE // rate)  # drop the filter's lead-in delay
    return pcm16_to_ulaw(out[skip:] if rate != SAMPLE_RATE_PHONE else out)


def ulaw_frames(data: bytes) -> list[bytes]:
    """Cut μ-law audio into 20 ms frames of ``FRAME_BYTES``; the last one is padded with μ-law silence."""
    frames = [bytes(data[i:i + FRAME_BYTES]) for i in range(0, len(data), FRAME_BYTES)]
    if frames and len(frames[-1]) < FRAME_BYTES:
        frames[-1] += ULAW_SILENCE * (FRAME_BYTES - len(frames[-1]))
    return frames
