"""Loopback fakes of outside services (Twilio, a resident's phone, a resident's voice) for the tests and bench.

They are written from the vendors' documentation, never from our own adapters: ``gridreach_fakes`` imports nothing
from ``voice_caller`` or ``bots``, so that a mistake in those is caught rather than copied.
"""

__all__: list[str] = []
