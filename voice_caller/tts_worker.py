"""The speech synthesis worker process: one pyttsx3 engine (espeak-ng), one request at a time.

Run by ``voice_caller.tts.Speaker`` as ``python -m voice_caller.tts_worker``; it is never imported by the
parent. pyttsx3 is bound to the thread that made its engine and a later ``runAndWait`` is known to hang, so the
engine lives alone in this process, which the parent times out, kills and restarts.

Protocol: JSON lines. Request ``{"id": n, "text": ..., "voice": ..., "rate": ..., "path": ...}`` (write a WAV
file to ``path``) or ``{"op": "quit"}``; answer ``{"id": n, "ok": true}`` or ``{"id": n, "ok": false,
"error": "<exception type>"}``. The text is never written anywhere but the WAV. Anything the engine prints
goes to /dev/null: file descriptor 1 is re-pointed there and the protocol uses a private copy of it.

pyttsx3 2.9x with espeak-ng, as measured here: ``runAndWait`` may return before espeak has finished (the worker
waits with ``espeak_Synchronize`` and for the file), its driver can drop the last chunk of audio (its callback is
re-registered to keep it), and about one file in twenty came out without frames under load: the worker says the
text again, up to three times, before answering. The parent checks the file in any case.

``--fault-file PATH`` (tests only): before each request the worker takes the first line of that file and
acts it out: ``hang`` (sleep forever), ``crash`` (exit at once), ``empty`` (write a WAV with no frames),
``silent`` (write a WAV of zeros). Without the flag there is no way to trigger these.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys
import time
import wave
from pathlib import Path
from typing import Any, TextIO

__all__ = ["main"]

_TRIES = 3


def _protocol_stream() -> TextIO:
    """A private copy of stdout for the protocol; fd 1 itself goes to /dev/null (pyttsx3 prints there)."""
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    return proto


def _next_fault(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        return ""
    path.write_text("".join(f"{line}\n" for line in lines[1:]), encoding="utf-8")
    return lines[0].strip()


def _write_wav(path: str, frames: bytes) -> None:
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(frames)


def _fix_lost_last_chunk(engine: Any) -> None:
    """pyttsx3 2.9x's espeak driver writes the WAV when it sees the end-of-message event and only then appends
    the samples that came in the same callback: when espeak hands over the whole utterance in one callback, the
    file has no frames. Re-register its callback so samples are kept first (skipped if the internals differ)."""
    driver = getattr(getattr(engine, "proxy", None), "_driver", None)
    original = getattr(driver, "_onSynth", None)
    if driver is None or original is None or not hasattr(driver, "_data_buffer"):
        return
    from pyttsx3.drivers import _espeak

    def on_synth(wav: Any, numsamples: int, events: Any) -> int:
        if numsamples > 0 and getattr(driver, "_speaking", False):
            driver._data_buffer += ctypes.string_at(wav, numsamples * ctypes.sizeof(ctypes.c_short))
        return int(original(wav, 0, events) or 0)

    _espeak.SetSynthCallback(on_synth)


def _complete_wav(path: str) -> bool:
    try:
        with wave.open(path, "rb") as w:
            return w.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


class _Engine:
    """The pyttsx3 engine, made on first use in this (the only) thread."""

    def __init__(self) -> None:
        self._engine: Any = None

    def synthesise(self, text: str, voice: str, rate: int, path: str) -> None:
        if self._engine is None:
            import pyttsx3

            self._engine = pyttsx3.init("espeak")
            _fix_lost_last_chunk(self._engine)
        self._engine.setProperty("voice", voice)
        self._engine.setProperty("rate", rate)
        self._engine.save_to_file(text, path)
        self._engine.runAndWait()
        # runAndWait can return while espeak is still synthesising (its queued endLoop runs before the text
        # starts); the WAV is written from espeak's callback at the end. Wait for espeak, then for the file, so
        # that no utterance runs into the next request. A real hang is the parent's timeout to handle.
        from pyttsx3.drivers import _espeak

        _espeak.Synchronize()
        driver = getattr(self._engine.proxy, "_driver", None)
        while getattr(driver, "_speaking", False) and not _complete_wav(path):
            time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    """Serve requests from stdin until ``quit`` or end of input."""
    parser = argparse.ArgumentParser(prog="voice_caller.tts_worker")
    parser.add_argument("--fault-file", type=Path, default=None)
    args = parser.parse_args(argv)
    proto = _protocol_stream()
    engine = _Engine()
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError:
            proto.write(json.dumps({"id": None, "ok": False, "error": "bad request"}) + "\n")
            continue
        if request.get("op") == "quit":
            break
        reply: dict[str, Any] = {"id": request.get("id"), "ok": True}
        fault = _next_fault(args.fault_file)
        try:
            if fault == "hang":
                while True:
                    time.sleep(3600)
            elif fault == "crash":
                os._exit(3)
            elif fault in ("empty", "silent"):
                _write_wav(str(request["path"]), b"" if fault == "empty" else b"\x00\x00" * 22050)
            else:
                for _try in range(_TRIES):  # pyttsx3 now and then writes a file without frames: say it again
                    engine.synthesise(str(request["text"]), str(request["voice"]), int(request["rate"]),
                                      str(request["path"]))
                    if _complete_wav(str(request["path"])):
                        break
        except Exception as exc:  # reported to the parent, which restarts this process
            reply = {"id": request.get("id"), "ok": False, "error": type(exc).__name__}
        proto.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
