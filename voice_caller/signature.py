"""X-Twilio-Signature on our webhooks: which URL was signed, and the check.

Twilio signs the URL it requested (scheme, host, path and query exactly as configured: our public base URL, never
the ``Host`` header we see behind a proxy) followed by the sorted POST form fields, with HMAC-SHA1 keyed by the
account's auth token. A JSON request carries ``bodySHA256`` in its query and the body hash is checked instead of
form fields. The Media Streams websocket upgrade is signed over its ``wss://`` URL with no fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gridreach.errors import ForgedRequest
from voice_caller.config import VoiceSettings
from voice_caller.twilio_api import signature_valid

__all__ = ["SIGNATURE_HEADER", "SignatureChecker"]

SIGNATURE_HEADER = "X-Twilio-Signature"


class SignatureChecker:
    """Checks requests against the account's auth token and our public URLs."""

    def __init__(self, settings: VoiceSettings) -> None:
        self.settings = settings

    def webhook_url(self, path_qs: str) -> str:
        """The URL Twilio requested for ``path_qs`` (path and query of the request we received)."""
        return self.settings.public_url(path_qs)

    def stream_url(self, query: str = "") -> str:
        """The websocket URL Twilio opened (``wss://…/voice/stream`` and its query, if any)."""
        return self.settings.stream_url + (f"?{query}" if query else "")

    def check(self, url: str, params: Mapping[str, Any] | str, signature: str | None) -> None:
        """Raise ``ForgedRequest`` unless ``signature`` signs ``url`` + ``params``."""
        if not signature:
            raise ForgedRequest("request has no X-Twilio-Signature")
        if not signature_valid(self.settings.auth_token, url, params, signature):
            raise ForgedRequest("X-Twilio-Signature does not match")
