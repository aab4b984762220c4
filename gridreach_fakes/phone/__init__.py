"""A resident's phone on a Twilio Media Stream: the client side of Twilio's documented websocket protocol.

Written from Twilio's "Media Streams - WebSocket Messages" page, as Twilio behaves for ``<Connect><Stream>``
(bidirectional): it sends ``connected``, ``start`` (streamSid ``MZ…``, accountSid, callSid, tracks ``["inbound"]``,
customParameters, mediaFormat audio/x-mulaw 8000 Hz mono), then a ``media`` frame every 20 ms for the whole call
(160 bytes of μ-law, base64; silence when the resident says nothing), ``dtmf`` for each key, and ``stop`` at the end.
From the server it accepts ``media`` (queued and played at real-time pace), ``mark`` (echoed once the audio queued
before it has played) and ``clear`` (drops queued audio and echoes the pending marks). Anything else, or a message
for another stream, is a protocol error, recorded in ``Phone.errors``.

A resident is a ``Script`` of steps: ``Say`` (espeak-ng speech), ``Keys``, ``Silence``, ``HangUp``. Each step waits
until the bot has finished speaking (its queued audio has played and nothing new arrived for ``quiet`` seconds),
unless it says ``barge_in``. With ``marks=True`` (a server that ends each prompt with a mark) a step also waits
until ``step.prompts`` marks have been echoed since the previous step: a greeting followed by a question is two.
``speed`` > 1 runs the audio clock that many times faster than real time.
"""

from gridreach_fakes.phone.script import BotTurn, HangUp, Keys, Say, Script, Silence, Sound, Step, StepResult
from gridreach_fakes.phone.stream import Phone

__all__ = [
    "BotTurn",
    "HangUp",
    "Keys",
    "Phone",
    "Say",
    "Script",
    "Silence",
    "Sound",
    "Step",
    "StepResult",
]
