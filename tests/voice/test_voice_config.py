"""VoiceSettings: built from environment variables once, validated, secrets kept out of repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridreach.errors import ConfigError
from tests.voice.call_kit import ACCOUNT_SID, AUTH_TOKEN
from voice_caller.config import VoiceSettings

ENV = {
    "GRIDREACH_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "GRIDREACH_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "GRIDREACH_VOICE_PUBLIC_URL": "https://voice.example.org/",
    "GRIDREACH_VOICE_FROM": "+8657100000000",
}


def test_defaults_and_derived_urls(tmp_path: Path) -> None:
    settings = VoiceSettings.from_env(ENV, home=tmp_path)
    assert settings.api_base_url == "https://api.twilio.com" and settings.calls_per_second == 1.0
    assert settings.machine_detection is True and settings.max_concurrent_calls == 4
    assert settings.speech_models_dir == tmp_path / "speech" and settings.tts_cache_dir == tmp_path / "tts-cache"
    assert settings.public_url("/voice/twiml?attempt=1") == "https://voice.example.org/voice/twiml?attempt=1"
    assert settings.stream_url == "wss://voice.example.org/voice/stream"


def test_every_setting_can_be_given(tmp_path: Path) -> None:
    settings = VoiceSettings.from_env({
        **ENV, "GRIDREACH_TWILIO_API_URL": "http://127.0.0.1:9999", "GRIDREACH_SPEECH_MODELS": str(tmp_path / "m"),
        "GRIDREACH_TTS_CACHE": str(tmp_path / "c"), "GRIDREACH_VOICE_MAX_CALLS": "16",
        "GRIDREACH_VOICE_CALLS_PER_SECOND": "0.5", "GRIDREACH_VOICE_SILENCE_TIMEOUT": "4.5",
        "GRIDREACH_VOICE_MAX_SILENT_TRIES": "3", "GRIDREACH_VOICE_AMD": "off", "GRIDREACH_VOICE_HOST": "0.0.0.0",
        "GRIDREACH_VOICE_PORT": "9000"})
    assert (settings.api_base_url, settings.speech_models_dir, settings.tts_cache_dir) == (
        "http://127.0.0.1:9999", tmp_path / "m", tmp_path / "c")
    assert (settings.max_concurrent_calls, settings.calls_per_second, settings.silence_timeout) == (16, 0.5, 4.5)
    assert (settings.max_silent_tries, settings.machine_detection, settings.listen_port) == (3, False, 9000)
    assert VoiceSettings.from_env({**ENV, "GRIDREACH_VOICE_PUBLIC_URL": "http://10.0.0.5:8089"}).stream_url == \
        "ws://10.0.0.5:8089/voice/stream"


def test_secrets_stay_out_of_repr() -> None:
    text = repr(VoiceSettings.from_env(ENV))
    assert AUTH_TOKEN not in text and ACCOUNT_SID not in text and "voice.example.org" in text


@pytest.mark.parametrize("missing", list(ENV))
def test_a_missing_twilio_setting_names_its_variable(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(ConfigError) as caught:
        VoiceSettings.from_env(env)
    assert caught.value.key == missing


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("GRIDREACH_TWILIO_ACCOUNT_SID", "SK123"),
        ("GRIDREACH_VOICE_PUBLIC_URL", "voice.example.org"),
        ("GRIDREACH_TWILIO_API_URL", "ftp://api"),
        ("GRIDREACH_VOICE_FROM", "057188888888"),
        ("GRIDREACH_VOICE_MAX_CALLS", "0"),
        ("GRIDREACH_VOICE_MAX_CALLS", "many"),
        ("GRIDREACH_VOICE_CALLS_PER_SECOND", "-1"),
        ("GRIDREACH_VOICE_SILENCE_TIMEOUT", "soon"),
        ("GRIDREACH_VOICE_AMD", "maybe"),
        ("GRIDREACH_VOICE_PORT", "70000"),
    ],
)
def test_a_bad_value_names_its_variable_not_its_secret(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        VoiceSettings.from_env({**ENV, key: value})
    assert caught.value.key == key
    assert AUTH_TOKEN not in str(caught.value)


def test_twilios_own_variable_names_work_too() -> None:
    env = {k: v for k, v in ENV.items() if "TWILIO" not in k}
    settings = VoiceSettings.from_env({**env, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN})
    assert settings.account_sid == ACCOUNT_SID


def test_the_call_interval_and_stream_limits(tmp_path: Path) -> None:
    defaults = VoiceSettings.from_env(ENV, home=tmp_path)
    assert (defaults.call_min_interval, defaults.stream_start_timeout, defaults.max_streams) == (14400.0, 5.0, 32)
    assert (defaults.max_frame_bytes, defaults.max_frames_per_second) == (16384, 200.0)
    for text, seconds in (("4h", 14400.0), ("90m", 5400.0), ("3600", 3600.0), ("1d", 86400.0), ("0", 0.0),
                          ("45s", 45.0)):
        assert VoiceSettings.from_env({**ENV, "GRIDREACH_CALL_MIN_INTERVAL": text}).call_min_interval == seconds
    given = VoiceSettings.from_env({
        **ENV, "GRIDREACH_VOICE_STREAM_START_TIMEOUT": "2.5", "GRIDREACH_VOICE_MAX_STREAMS": "8",
        "GRIDREACH_VOICE_MAX_FRAME_BYTES": "4096", "GRIDREACH_VOICE_MAX_FRAMES_PER_SECOND": "120"})
    assert (given.stream_start_timeout, given.max_streams, given.max_frame_bytes, given.max_frames_per_second) == (
        2.5, 8, 4096, 120.0)


@pytest.mark.parametrize(("key", "value"), [
    ("GRIDREACH_CALL_MIN_INTERVAL", "soon"), ("GRIDREACH_CALL_MIN_INTERVAL", "-1h"),
    ("GRIDREACH_VOICE_STREAM_START_TIMEOUT", "0"), ("GRIDREACH_VOICE_MAX_STREAMS", "0"),
    ("GRIDREACH_VOICE_MAX_FRAME_BYTES", "10"), ("GRIDREACH_VOICE_MAX_FRAMES_PER_SECOND", "x"),
])
def test_a_bad_limit_is_named(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        VoiceSettings.from_env({**ENV, key: value})
    assert key in str(caught.value)
