"""voice_caller.tts: real pyttsx3 (espeak-ng) in worker processes, the shared disk cache, failure handling.

Faults are injected through the worker's ``--fault-file`` (each request acts out its first line: hang, crash,
empty, silent), so the real worker process, pipe protocol, timeout and restart are exercised.
"""

from __future__ import annotations

import asyncio
import io
import os
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridreach.errors import SynthesisError
from voice_caller.audio import rms, ulaw_to_pcm16
from voice_caller.tts import Speaker, check_wav

TEXTS = {"ko": "오늘 체온이 몇 도였습니까?", "zh": "请问您今天量的体温是多少度？", "en": "Do you have a cough?"}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def faults(tmp_path: Path) -> Path:
    path = tmp_path / "faults"
    path.write_text("")
    return path


@pytest.fixture
def speaker(tmp_path: Path, faults: Path) -> Iterator[Speaker]:
    with Speaker(tmp_path / "cache", timeout=3.0, worker_args=["--fault-file", str(faults)]) as s:
        yield s


def wav(frames: bytes, rate: int = 22050) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


@pytest.mark.parametrize("language", ["ko", "zh", "en"])
async def test_real_speech_comes_out_as_8k_mulaw_with_speech_in_it(speaker: Speaker, language: str) -> None:
    audio = await speaker.say(TEXTS[language], language)
    pcm = ulaw_to_pcm16(audio)
    assert len(audio) > 8000 * 0.5  # more than half a second at one byte per 8 kHz sample
    assert rms(pcm) > 500  # speech, not silence
    frames = [rms(pcm[i:i + 320]) for i in range(0, len(pcm), 320)]
    assert 0 < sum(1 for f in frames if f < 100) < len(frames) // 2  # words and pauses, not a constant tone
    assert speaker.synthesised == 1 and speaker.requests == 1


async def test_a_cached_text_is_not_synthesised_again(speaker: Speaker, tmp_path: Path) -> None:
    assert speaker.cached(TEXTS["ko"], "ko") is None
    first = await speaker.say(TEXTS["ko"], "ko")
    assert speaker.cached(TEXTS["ko"], "ko") == first
    assert await speaker.say(TEXTS["ko"], "ko") == first
    assert speaker.requests == 1
    with Speaker(tmp_path / "cache") as other:  # another process's speaker, same directory
        assert await other.say(TEXTS["ko"], "ko") == first
        assert other.requests == 0 and other.worker_pids() == []
    assert speaker.cached(TEXTS["ko"], "en") is None  # language, voice and rate are part of the key
    assert Speaker(tmp_path / "x", rate=120).key("a", "ko") != Speaker(tmp_path / "x").key("a", "ko")
    assert not list((tmp_path / "cache").rglob("*.part"))  # written by rename, nothing half-written left


async def test_a_text_that_may_hold_an_answer_is_said_but_never_kept(speaker: Speaker, tmp_path: Path) -> None:
    """Confirmations repeat answers ("삼십칠 점 오 도, 맞습니까?"): said, not written to the cache on disk."""
    confirmation = "삼십칠 점 오 도, 맞습니까?"
    audio = await speaker.say(confirmation, "ko", keep=False)
    assert len(audio) > 8000 * 0.5 and speaker.cached(confirmation, "ko") is None
    assert not [p for p in speaker.cache_dir.rglob("*") if p.is_file()]  # nothing on disk at all
    await speaker.say("네", "ko")  # a fixed prompt is kept
    assert len([p for p in speaker.cache_dir.rglob("*") if p.is_file()]) == 1


async def test_prepare_synthesises_only_what_is_missing(speaker: Speaker) -> None:
    texts = ["네", "아니요", "네", "  "]
    assert await speaker.prepare(texts, "ko") == 2
    assert await speaker.prepare(texts, "ko") == 0
    assert speaker.requests == 2 and all(speaker.cached(t, "ko") for t in ("네", "아니요"))


async def test_a_hung_worker_is_killed_restarted_and_the_text_retried(speaker: Speaker, faults: Path) -> None:
    await speaker.say("하나", "ko")
    first_pid = speaker.worker_pids()[0]
    faults.write_text("hang\n")
    audio = await speaker.say("둘", "ko")
    assert rms(ulaw_to_pcm16(audio)) > 500
    assert speaker.requests == 3 and speaker.restarts == 1
    assert not alive(first_pid) and speaker.worker_pids() != [first_pid]
    assert await speaker.say("셋", "ko")  # the next one just works


async def test_two_failures_in_a_row_are_a_synthesis_error_and_the_speaker_recovers(
        speaker: Speaker, faults: Path) -> None:
    faults.write_text("hang\ncrash\n")
    with pytest.raises(SynthesisError, match="failed twice") as caught:
        await speaker.say("비밀 답변", "ko")
    assert "비밀" not in str(caught.value)  # the text is never in an error
    assert speaker.cached("비밀 답변", "ko") is None and speaker.restarts == 2
    assert await speaker.say("다시", "ko")


@pytest.mark.parametrize("fault", ["empty", "silent"])
async def test_a_worker_that_writes_no_speech_is_not_believed(speaker: Speaker, faults: Path, fault: str) -> None:
    faults.write_text(f"{fault}\n{fault}\n")
    with pytest.raises(SynthesisError, match="without audio frames" if fault == "empty" else "only silence"):
        await speaker.say("소리 없음", "ko")
    assert speaker.cached("소리 없음", "ko") is None


def test_output_validation() -> None:
    with pytest.raises(SynthesisError, match="RIFF"):
        check_wav(b"")
    with pytest.raises(SynthesisError, match="RIFF"):
        check_wav(b"ID3\x04" + b"\x00" * 100)
    with pytest.raises(SynthesisError, match="unreadable"):
        check_wav(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(SynthesisError, match="without audio frames"):
        check_wav(wav(b""))
    with pytest.raises(SynthesisError, match="only silence"):
        check_wav(wav(b"\x00\x00" * 22050))
    loud = wav(b"\x00\x20\x00\xe0" * 11025)
    assert len(check_wav(loud)) == pytest.approx(8000, abs=2)


async def test_a_chinese_fallback_text_is_spoken_by_the_chinese_voice(speaker: Speaker) -> None:
    """A questionnaire without Korean speaks its Chinese texts to a Korean resident: the cmn voice says them."""
    assert speaker.voice("ko", "您收到这条通知了吗？") == "cmn" and speaker.voice("ko", "네") == "ko"
    assert speaker.voice("zh", "OK") == "cmn" and speaker.voice("en", "Hello") == "en"
    audio = await speaker.say("您收到这条通知了吗？", "ko")
    assert 8000 * 0.5 < len(audio) < 8000 * 6  # a sentence, not sixteen seconds of spelled-out characters


async def test_empty_text_is_refused(speaker: Speaker) -> None:
    with pytest.raises(SynthesisError, match="empty"):
        await speaker.say("  ", "ko")
    assert speaker.requests == 0


async def test_close_leaves_no_worker_behind(tmp_path: Path) -> None:
    speaker = Speaker(tmp_path / "cache", workers=2)
    await asyncio.gather(speaker.say("하나", "ko"), speaker.say("둘", "ko"), speaker.say("셋", "ko"))
    pids = speaker.worker_pids()
    assert 1 <= len(pids) <= 2 and all(alive(p) for p in pids)
    speaker.close()
    assert not any(alive(p) for p in pids) and speaker.worker_pids() == []
    with pytest.raises(SynthesisError, match="closed"):
        await speaker.say("넷", "ko")
    assert await speaker.say("하나", "ko")  # the cache still answers
    speaker.close()  # closing twice is fine
