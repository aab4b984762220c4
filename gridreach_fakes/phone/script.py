"""A resident's script (the steps ``Phone`` plays: ``Say``, ``Sound``, ``Keys``, ``Silence``, ``HangUp``) and what
the phone records of the call: the bot's turns and each step's timing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["BotTurn", "HangUp", "Keys", "Say", "Script", "Silence", "Sound", "Step", "StepResult"]

@dataclass(frozen=True)
class Say:
    """Speak ``text`` (espeak-ng, ``lang``); with ``barge_in`` start ``after`` seconds into the bot's prompt."""

    text: str
    lang: str = "ko"
    barge_in: bool = False
    after: float = 0.5
    prompts: int = 1


@dataclass(frozen=True)
class Sound:
    """Send this μ-law audio as the resident's answer (for prepared audio, e.g. in the benchmark)."""

    ulaw: bytes
    label: str = "sound"
    barge_in: bool = False
    after: float = 0.5
    prompts: int = 1


@dataclass(frozen=True)
class Keys:
    """Press keys (``dtmf`` events, ``gap`` seconds of audio time apart)."""

    digits: str
    gap: float = 0.2
    barge_in: bool = False
    after: float = 0.5
    prompts: int = 1


@dataclass(frozen=True)
class Silence:
    """Say nothing for ``seconds`` of audio time after the bot has finished."""

    seconds: float
    prompts: int = 1


@dataclass(frozen=True)
class HangUp:
    """Hang up: after the bot has finished, or at once (mid-prompt) with ``now``."""

    now: bool = False
    prompts: int = 1


Step = Say | Sound | Keys | Silence | HangUp
Script = Sequence[Step]


@dataclass
class BotTurn:
    """What the bot sent between two steps of the resident (μ-law as received, and what was actually played)."""

    index: int
    audio: bytearray = field(default_factory=bytearray)
    played: bytearray = field(default_factory=bytearray)
    marks: list[str] = field(default_factory=list)
    cleared: int = 0
    first_frame_at: float | None = None
    last_frame_at: float | None = None
    gaps: list[float] = field(default_factory=list)  # seconds the playback starved in the middle of a prompt

    @property
    def seconds(self) -> float:
        return len(self.audio) / 8000


@dataclass
class StepResult:
    """One step as it happened: when its audio ended, and the bot's first frame after that (the latency)."""

    step: Step
    started_at: float
    ended_at: float | None = None
    bot_reply_at: float | None = None
    waited_out: bool = False  # the bot never finished (or never spoke) within turn_timeout

    @property
    def latency(self) -> float | None:
        if self.ended_at is None or self.bot_reply_at is None:
            return None
        return self.bot_reply_at - self.ended_at
