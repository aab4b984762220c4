"""Outbound audio on a Media Stream, paced at real time, with a ``mark`` to learn when it has played.

Twilio buffers what it is sent and plays it at 8 kHz; sending a whole prompt at once would make ``clear`` (barge-in)
the only way to stop it and would hide when it ends. ``Playback`` sends chunks of ``chunk_ms`` no more than
``lead_ms`` ahead of real time, then a mark; Twilio echoes the mark once the audio before it has played (or when
``clear`` dropped it). If the echo never comes, playback is taken as finished when the audio's duration plus a grace
period has passed. ``interrupt()`` sends ``clear`` and stops sending at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from voice_caller.media_stream import clear_message, mark_message, media_message

__all__ = ["BYTES_PER_SECOND", "Playback", "StreamClosed"]

BYTES_PER_SECOND = 8000  # 8 kHz μ-law: one byte per sample


class StreamClosed(Exception):
    """Sending on the websocket failed: the caller is gone."""


class Playback:
    """Plays audio on one stream; one prompt (one or more pieces of audio, then a mark) at a time."""

    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        stream_sid: str,
        *,
        chunk_ms: int = 100,
        lead_ms: int = 300,
        grace: float = 2.0,
    ) -> None:
        self._send = send
        self.stream_sid = stream_sid
        self.chunk = max(160, BYTES_PER_SECOND * chunk_ms // 1000)
        self.lead = lead_ms / 1000
        self.grace = grace
        self.playing = False
        self.frames_sent = 0
        self._interrupted = asyncio.Event()
        self._marks: dict[str, asyncio.Future[None]] = {}
        self._count = 0
        self._t0 = 0.0
        self._sent = 0.0  # seconds of audio sent in this prompt

    async def _write(self, message: str) -> None:
        try:
            await self._send(message)
        except (ConnectionError, RuntimeError) as exc:  # aiohttp raises ConnectionResetError / RuntimeError
            raise StreamClosed(type(exc).__name__) from exc

    def begin(self) -> None:
        """Start a prompt: the real-time clock starts now."""
        self.playing = True
        self._interrupted.clear()
        self._t0 = asyncio.get_running_loop().time()
        self._sent = 0.0

    @property
    def interrupted(self) -> bool:
        return self._interrupted.is_set()

    async def feed(self, audio: bytes) -> bool:
        """Send ``audio`` paced at real time; False if the prompt was interrupted."""
        loop = asyncio.get_running_loop()
        for offset in range(0, len(audio), self.chunk):
            if self.interrupted:
                return False
            ahead = self._sent - (loop.time() - self._t0)
            if ahead > self.lead:
                try:
                    await asyncio.wait_for(self._interrupted.wait(), ahead - self.lead)
                    return False
                except asyncio.TimeoutError:
                    pass
            piece = audio[offset : offset + self.chunk]
            await self._write(media_message(self.stream_sid, piece))
            self.frames_sent += 1
            self._sent += len(piece) / BYTES_PER_SECOND
        return not self.interrupted

    async def finish(self) -> bool:
        """Send the end mark and wait until it is echoed (played); False if the prompt was interrupted."""
        if self.interrupted:
            self.playing = False
            return False
        loop = asyncio.get_running_loop()
        self._count += 1
        name = f"prompt-{self._count}"
        echoed: asyncio.Future[None] = loop.create_future()
        self._marks[name] = echoed
        try:
            await self._write(mark_message(self.stream_sid, name))
            remaining = max(0.0, self._sent - (loop.time() - self._t0))
            stop: asyncio.Future[Any] = asyncio.ensure_future(self._interrupted.wait())
            waited: set[asyncio.Future[Any]] = {echoed, stop}
            try:
                await asyncio.wait(waited, timeout=remaining + self.grace, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
            return not self.interrupted
        finally:
            self._marks.pop(name, None)
            self.playing = False

    def on_mark(self, name: str) -> None:
        """Twilio echoed a mark."""
        future = self._marks.get(name)
        if future is not None and not future.done():
            future.set_result(None)

    async def interrupt(self) -> bool:
        """Barge-in: stop sending and have Twilio drop what it buffered. True if something was playing."""
        if not self.playing or self.interrupted:
            return False
        self._interrupted.set()
        await self._write(clear_message(self.stream_sid))
        return True
