"""`gridreach call` refuses to start, saying exactly what is missing, before it loads the Rasa core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gridreach.store import Store
from gridreach_app.cli import main
from tests.voice.call_kit import ACCOUNT_SID, AUTH_TOKEN

TWILIO = {
    "GRIDREACH_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "GRIDREACH_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "GRIDREACH_VOICE_PUBLIC_URL": "https://voice.example.org",
    "GRIDREACH_VOICE_FROM": "+8657100000000",
}


@pytest.fixture
def home(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRIDREACH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDREACH_DATABASE_URL", db_url)
    for key in (*TWILIO, "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "GRIDREACH_SPEECH_MODELS"):
        monkeypatch.delenv(key, raising=False)
    store = Store.from_url(db_url)
    store.migrate()
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "V01", "语音网格")
    store.add_resident("V01", "1号", "李明", "+8613900139000", 1950, "zh")
    store.close()
    return tmp_path / "home"


def test_a_missing_twilio_setting_is_named(home: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    for key, value in TWILIO.items():
        if key != "GRIDREACH_VOICE_PUBLIC_URL":
            monkeypatch.setenv(key, value)
    assert main(["call", "--phone", "13900139000"]) == 2
    err = capsys.readouterr().err
    assert "GRIDREACH_VOICE_PUBLIC_URL" in err and "required" in err and AUTH_TOKEN not in err


def test_a_missing_speech_model_says_what_to_download(home: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    for key, value in TWILIO.items():
        monkeypatch.setenv(key, value)
    assert main(["call", "--phone", "13900139000"]) == 2
    err = capsys.readouterr().err
    assert "vosk-model-small-cn-0.22" in err and str(home / "speech") in err


def test_an_unknown_resident_is_said_plainly(home: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    for key, value in TWILIO.items():
        monkeypatch.setenv(key, value)
    assert main(["call", "--resident", "999"]) == 2
    assert "No such resident" in capsys.readouterr().err


async def test_prepare_synthesises_the_greeting_hand_over_and_questions_ahead(store: Any) -> None:
    from campaigns import QUESTIONNAIRE_DIR, load_directory
    from campaigns.phrases import phrase
    from gridreach_app.voice import VoiceApp
    from tests.voice.call_kit import seed, voice_settings

    class Recorder:
        def __init__(self) -> None:
            self.prepared: dict[str, list[str]] = {}

        async def prepare(self, texts: list[str], language: str) -> int:
            self.prepared.setdefault(language, []).extend(texts)
            return len(texts)

    resident = seed(store, language="ko")
    speaker = Recorder()
    questionnaires = load_directory(QUESTIONNAIRE_DIR)
    app = VoiceApp(voice_settings(), store, None, None, speaker, None, questionnaires)  # type: ignore[arg-type]
    assert await app.prepare([resident, resident], "daily_health") == len(speaker.prepared["ko"])
    said = set(speaker.prepared["ko"])
    assert phrase("voice_greeting", "ko", community="幸福社区", grid_worker="王网格") in said
    assert phrase("voice_transfer", "ko", grid_worker="王网格") in said and phrase("goodbye", "ko") in said
    assert all(q.prompt["ko"] in said for q in questionnaires["daily_health"].questions)


async def test_call_all_checks_speech_prepares_then_dials(store: Any, tmp_path: Path) -> None:
    from campaigns import QUESTIONNAIRE_DIR, load_directory
    from gridreach_app.voice import VoiceApp
    from tests.voice.call_kit import FakeSpeaker, seed, voice_settings
    from tests.voice.test_dialer import Phones
    from voice_caller.asr import SpeechModelMissing, SpeechModels
    from voice_caller.dialer import Dialer

    class Speaker(FakeSpeaker):
        async def prepare(self, texts: list[str], language: str) -> int:
            self.cache.update(texts)
            return len(texts)

    resident = seed(store, language="zh")
    phones, speaker, settings = Phones(), Speaker(), voice_settings(calls_per_second=100.0)
    app = VoiceApp(settings, store, None, Dialer(settings, store, phones, phones), speaker,  # type: ignore[arg-type]
                   SpeechModels(tmp_path / "speech"), load_directory(QUESTIONNAIRE_DIR))
    with pytest.raises(SpeechModelMissing):  # no Chinese model under tmp_path: nobody is called
        await app.call_all([resident], "daily_health")
    assert phones.placed == [] and speaker.cache == set()
    app.models = SpeechModels({"zh": tmp_path}, extra={})
    app.models.model = lambda language: object()  # type: ignore[method-assign]  # a model "loaded"
    outcomes = await app.call_all([resident], "daily_health")
    assert [o.outcome for o in outcomes] == ["initiated"] and len(phones.placed) == 1
    assert any("幸福社区" in text for text in speaker.cache)
