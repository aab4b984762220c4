"""voice_caller.audio: μ-law, band-limited streaming resampling, WAV conversion, frames, loudness."""

from __future__ import annotations

import audioop
import io
import math
import wave

import numpy as np
import pytest

from voice_caller.audio import (
    FRAME_BYTES,
    FRAME_MS,
    SAMPLE_RATE_ASR,
    SAMPLE_RATE_PHONE,
    ULAW_SILENCE,
    AudioFormatError,
    Resampler,
    pcm16_to_ulaw,
    rms,
    ulaw_frames,
    ulaw_to_pcm16,
    wav_to_ulaw8k,
)


def tone(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 8000.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def band_energy(pcm: bytes, rate: int, low: float, high: float) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum())


def make_wav(pcm_frames: bytes, rate: int, channels: int = 1, width: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(pcm_frames)
    return buf.getvalue()


def test_constants_describe_a_twilio_media_frame() -> None:
    assert (SAMPLE_RATE_PHONE, SAMPLE_RATE_ASR, FRAME_MS, FRAME_BYTES) == (8000, 16000, 20, 160)
    assert ULAW_SILENCE == b"\xff" and ulaw_to_pcm16(ULAW_SILENCE) == b"\x00\x00"


def test_ulaw_round_trip_keeps_the_signal_within_companding_error() -> None:
    pcm = tone(440, 8000)
    back = ulaw_to_pcm16(pcm16_to_ulaw(pcm))
    assert len(pcm16_to_ulaw(pcm)) == len(pcm) // 2 and len(back) == len(pcm)
    error = np.abs(np.frombuffer(back, "<i2").astype(int) - np.frombuffer(pcm, "<i2").astype(int))
    assert error.max() <= 8000 * 0.04  # μ-law keeps ~2 % of the amplitude, a bit more near the peaks


def test_ulaw_known_codes() -> None:
    assert ulaw_to_pcm16(b"\x00") == np.array([-32124], "<i2").tobytes()
    assert ulaw_to_pcm16(b"\x80") == np.array([32124], "<i2").tobytes()
    assert pcm16_to_ulaw(b"\x00\x00\x01") == b"\xff"  # an odd trailing byte is dropped, not an error


def test_resampler_streams_exactly_like_a_whole_conversion() -> None:
    pcm = tone(1000, 8000, 0.5) + tone(300, 8000, 0.5)
    whole = Resampler(8000, 16000)
    expected = whole.convert(pcm) + whole.flush()
    pieces = Resampler(8000, 16000)
    chunked = b"".join(pieces.convert(pcm[i:i + 320]) for i in range(0, len(pcm), 320))
    odd = Resampler(8000, 16000)
    uneven = b"".join(odd.convert(pcm[i:i + 34]) for i in range(0, len(pcm), 34))
    assert chunked + pieces.flush() == expected == uneven + odd.flush()
    assert len(expected) == 2 * len(pcm) + 4 * whole.delay


def test_upsampling_to_16k_keeps_the_phone_band_and_adds_nothing_above_it() -> None:
    up = Resampler(8000, 16000)
    out = up.convert(tone(1000, 8000))
    assert abs(rms(out) - rms(tone(1000, 8000))) < 0.02 * rms(tone(1000, 8000))
    assert band_energy(out, 16000, 4000, 8000) < 1e-4 * band_energy(out, 16000, 900, 1100)


@pytest.mark.parametrize(("freq", "passes"), [(1000, True), (3000, True), (5000, False), (9000, False)])
def test_downsampling_a_22k_synthesiser_low_passes_like_a_phone_line(freq: int, passes: bool) -> None:
    down = Resampler(22050, 8000)
    out = down.convert(tone(freq, 22050)) + down.flush()
    assert abs(len(out) // 2 - 8000) <= down.delay
    level = rms(out[400:-400])
    if passes:
        assert level == pytest.approx(8000 / math.sqrt(2), rel=0.03)
    else:
        assert level < 60  # aliasing would fold the tone back into the band at full strength


def test_equal_rates_pass_through_and_bad_rates_are_refused() -> None:
    same = Resampler(8000, 8000)
    assert same.convert(b"\x01\x02\x03\x04") == b"\x01\x02\x03\x04" and same.flush() == b""
    with pytest.raises(ValueError, match="positive"):
        Resampler(0, 8000)


@pytest.mark.parametrize(
    ("rate", "channels", "width"), [(22050, 1, 2), (44100, 2, 2), (16000, 1, 1), (48000, 1, 3), (8000, 1, 2)]
)
def test_any_wav_becomes_8k_mulaw_mono(rate: int, channels: int, width: int) -> None:
    mono = tone(800, rate, 0.5)
    frames = mono
    if width != 2:
        frames = audioop.lin2lin(mono, 2, width)
        if width == 1:
            frames = audioop.bias(frames, 1, 128)  # 8-bit WAV is unsigned
    if channels == 2:
        frames = audioop.tostereo(frames, width, 1, 1)
    ulaw = wav_to_ulaw8k(make_wav(frames, rate, channels, width))
    assert abs(len(ulaw) - 4000) <= 2  # 0.5 s at 8 kHz, one byte a sample
    level = rms(ulaw_to_pcm16(ulaw)[200:-200])
    assert level == pytest.approx(8000 / math.sqrt(2), rel=0.05)


@pytest.mark.parametrize("data", [b"", b"RIFF1234WAVEjunk", b"not a wav at all" * 10])
def test_garbage_is_a_clear_audio_format_error(data: bytes) -> None:
    with pytest.raises(AudioFormatError, match="WAV"):
        wav_to_ulaw8k(data)


def test_frames_are_20ms_and_the_last_is_padded_with_silence() -> None:
    frames = ulaw_frames(b"\x10" * 400)
    assert [len(f) for f in frames] == [160, 160, 160]
    assert frames[-1] == b"\x10" * 80 + ULAW_SILENCE * 80
    assert ulaw_frames(b"") == [] and ulaw_frames(b"\x01" * 160) == [b"\x01" * 160]


def test_rms_measures_loudness() -> None:
    assert rms(b"") == 0.0 and rms(b"\x00\x00" * 100) == 0.0
    assert rms(tone(500, 8000)) == pytest.approx(8000 / math.sqrt(2), rel=0.01)
    assert rms(b"\x00\x10\x00") == rms(b"\x00\x10")  # an odd byte is ignored
