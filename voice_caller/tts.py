"""Speech out: pyttsx3 (espeak-ng) in isolated worker processes, behind an on-disk cache of 8 kHz μ-law audio.

``Speaker.say(text, language)`` answers from the cache when it can; otherwise a worker process
(``voice_caller.tts_worker``) writes a WAV, which is checked (RIFF/WAVE header, frames, not all silence),
converted to 8 kHz μ-law (``voice_caller.audio.wav_to_ulaw8k``) and stored. The work runs in a thread, off the
event loop. A worker that does not answer within ``timeout`` seconds, dies, or writes no usable audio is killed
and replaced, and the text is tried once more; a second failure raises ``SynthesisError``. No text is ever logged
or put in an error message.

The cache is keyed by sha256 of (text, language, voice, rate, engine id) and each entry is written to a temporary
file and renamed into place, so several processes can share one cache directory. ``prepare`` fills it ahead of
calls with a questionnaire's fixed prompts (``voice_caller.prompts.fixed_prompts``), so that ``cached`` finds
every one of them during a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
import os
import queue
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

from campaigns.normalize import detect_language
from gridreach.errors import SynthesisError
from voice_caller.audio import AudioFormatError, rms, wav_to_pcm16, wav_to_ulaw8k

__all__ = ["DEFAULT_VOICES", "ENGINE_ID", "Speaker", "check_wav"]

log = logging.getLogger(__name__)

#: espeak-ng voice per language (``espeak-ng --voices``: cmn = Mandarin, en, ko).
DEFAULT_VOICES: dict[str, str] = {"zh": "cmn", "en": "en", "ko": "ko"}
_MIN_RMS = 30.0  # a WAV quieter than this throughout is silence, not speech


def _engine_id() -> str:
    try:
        version = metadata.version("pyttsx3")
    except metadata.PackageNotFoundError:
        version = "?"
    return f"pyttsx3-{version}+espeak-ng/ulaw8k-v1"


#: Part of every cache key: a new engine or conversion recipe never serves old audio.
ENGINE_ID = _engine_id()


def check_wav(data: bytes) -> bytes:
    """``data`` as 8 kHz μ-law if it is a WAV with frames that are not all silence; else ``SynthesisError``."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SynthesisError("the synthesiser wrote no RIFF/WAVE file")
    try:
        pcm, _rate = wav_to_pcm16(data)
    except AudioFormatError as exc:
        raise SynthesisError(f"the synthesiser wrote an unreadable WAV file ({exc})") from exc
    if not pcm:
        raise SynthesisError("the synthesiser wrote a WAV file without audio frames")
    if rms(pcm) < _MIN_RMS:
        raise SynthesisError("the synthesiser wrote only silence")
    return wav_to_ulaw8k(data)


class _Failed(Exception):
    """One attempt failed; ``reason`` says how (never the text)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Worker:
    """One worker process and its reply buffer; used by one thread at a time."""

    def __init__(self, args: Sequence[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voice_caller.tts_worker", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        self._buffer = b""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def request(self, payload: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write((json.dumps(payload, ensure_ascii=False) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _Failed(f"worker gone ({type(exc).__name__})") from exc
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Failed(f"no answer within {timeout:g} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise _Failed(f"worker exited (status {self.proc.poll()})")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            reply: dict[str, Any] = json.loads(line)
        except ValueError as exc:
            raise _Failed("unreadable answer from the worker") from exc
        return reply

    def stop(self, grace: float = 2.0) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.write(b'{"op": "quit"}\n')
                self.proc.stdin.flush()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace)
        self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _stop_all(workers: list[_Worker]) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()


class Speaker:
    """Text → 8 kHz μ-law speech with a shared on-disk cache (see the module docstring)."""

    def __init__(self, cache_dir: Path, *, timeout: float = 20.0, voices: Mapping[str, str] | None = None,
                 rate: int = 150, workers: int = 1, worker_args: Sequence[str] = ()) -> None:
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.timeout, self.rate = float(timeout), int(rate)
        self.voices = {**DEFAULT_VOICES, **(voices or {})}
        self.worker_args = tuple(worker_args)
        self.requests = 0  # requests sent to a worker process (tries included)
        self.synthesised = 0  # texts synthesised (not found in the cache)
        self.restarts = 0  # workers killed and replaced
        self._size = max(1, int(workers))
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(self._size):
            self._idle.put(None)  # a slot; its process starts on first use
        self._workers: list[_Worker] = []
        self._executor = ThreadPoolExecutor(max_workers=self._size, thread_name_prefix="tts")
        self._tmp = Path(tempfile.mkdtemp(prefix="gridreach-tts-"))
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer = weakref.finalize(self, _stop_all, self._workers)

    # ------------------------------------------------------------------ cache
    def voice(self, language: str, text: str = "") -> str:
        """The espeak-ng voice for ``text`` in ``language`` (Chinese for an unknown language).

        The script of the text wins when it plainly belongs to another of our languages: a questionnaire without
        Korean falls back to Chinese texts, and a Korean voice would spell those out character by character."""
        script = detect_language(text) if text else None
        if script in self.voices and script != language and not (script == "en" and language in ("zh", "ko")):
            language = script
        return self.voices.get(language, self.voices["zh"])

    def key(self, text: str, language: str) -> str:
        """The cache key of ``text`` said in ``language`` with this speaker's voice and rate."""
        material = json.dumps([text, language, self.voice(language, text), self.rate, ENGINE_ID],
                              ensure_ascii=False)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _path(self, text: str, language: str) -> Path:
        key = self.key(text, language)
        return self.cache_dir / key[:2] / f"{key}.ulaw"

    def cached(self, text: str, language: str) -> bytes | None:
        """The cached audio of ``text`` in ``language``, or None; never synthesises."""
        try:
            data = self._path(text, language).read_bytes()
        except OSError:
            return None
        return data or None

    def _store(self, text: str, language: str, audio: bytes) -> None:
        target = self._path(text, language)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(audio)
            os.replace(tmp, target)  # atomic: readers see the old file or the whole new one
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # ------------------------------------------------------------- synthesis
    async def say(self, text: str, language: str, *, keep: bool = True) -> bytes:
        """``text`` as 8 kHz μ-law: from the cache, or synthesised in a worker process (then cached).

        ``keep=False`` for a text that may hold a resident's answer ("您说的是37.5度，对吗？"): it is synthesised and
        said, never written to the cache on disk."""
        if not text or not text.strip():
            raise SynthesisError("nothing to say: the text is empty")
        audio = self.cached(text, language)
        if audio is not None:
            return audio
        if self._closed:
            raise SynthesisError("the speaker is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._synthesise, text, language, keep)

    async def prepare(self, texts: Iterable[str], language: str) -> int:
        """Synthesise every text not yet cached; returns how many were synthesised.

        All texts are tried; if any failed, ``SynthesisError`` says how many (the others stay cached)."""
        missing = [t for t in dict.fromkeys(texts) if t.strip() and self.cached(t, language) is None]
        results = await asyncio.gather(*(self.say(t, language) for t in missing), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise SynthesisError(f"{len(failed)} of {len(missing)} prompt(s) could not be synthesised "
                                 f"({failed[0]})")
        return len(missing)

    def _synthesise(self, text: str, language: str, keep: bool = True) -> bytes:
        audio = self.cached(text, language)  # another thread or process may have made it meanwhile
        if audio is not None:
            return audio
        reasons: list[str] = []
        for _attempt in range(2):
            try:
                audio = self._attempt(text, language)
            except _Failed as exc:
                reasons.append(exc.reason)
                log.warning("speech synthesis failed (%s); worker restarted", exc.reason)
                continue
            if keep:
                self._store(text, language, audio)
            with self._lock:
                self.synthesised += 1
            return audio
        raise SynthesisError(f"speech synthesis failed twice: {'; '.join(reasons)}")

    def _attempt(self, text: str, language: str) -> bytes:
        worker = self._idle.get()
        try:
            if self._closed:
                raise _Failed("the speaker is closed")
            if worker is None or worker.proc.poll() is not None:
                worker = self._start_worker(worker)
            wav_path = self._tmp / f"{next(self._ids)}.wav"
            with self._lock:
                self.requests += 1
            try:
                reply = worker.request({"id": wav_path.stem, "text": text, "voice": self.voice(language, text),
                                        "rate": self.rate, "path": str(wav_path)}, self.timeout)
                if not reply.get("ok"):
                    raise _Failed(f"engine error {reply.get('error', '?')}")
                try:
                    data = wav_path.read_bytes()
                except OSError as exc:
                    raise _Failed("no WAV file written") from exc
                try:
                    return check_wav(data)
                except SynthesisError as exc:
                    raise _Failed(str(exc)) from exc
            except _Failed:
                self._retire(worker)
                worker = None
                raise
            finally:
                with contextlib.suppress(OSError):
                    wav_path.unlink()
        finally:
            self._idle.put(worker)

    def _start_worker(self, old: _Worker | None) -> _Worker:
        if old is not None:
            self._retire(old)
        worker = _Worker(self.worker_args)
        with self._lock:
            self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
            self.restarts += 1

    def worker_pids(self) -> list[int]:
        """Process ids of the live worker processes (for tests and diagnostics)."""
        with self._lock:
            return [w.pid for w in self._workers if w.proc.poll() is None]

    def close(self) -> None:
        """Stop the worker processes (waiting for a synthesis in progress) and remove temporary files."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True)
        with self._lock:
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.stop()
        self._finalizer.detach()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Speaker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
