"""X-Twilio-Signature: the URL Twilio requested (our public URL), the sorted form fields, the auth token."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from gridreach.errors import ChannelError, ForgedRequest
from tests.voice.call_kit import ACCOUNT_SID, AUTH_TOKEN, twilio_signature
from voice_caller.config import VoiceSettings
from voice_caller.signature import SignatureChecker

FORM = {"CallSid": "CA" + "1" * 32, "CallStatus": "in-progress", "From": "+8657100000000", "To": "+8613900139000"}


@pytest.fixture
def checker() -> SignatureChecker:
    return SignatureChecker(VoiceSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                                          public_base_url="https://voice.example.org/gr/",
                                          from_number="+8657100000000"))


def test_a_request_signed_over_our_public_url_passes(checker: SignatureChecker) -> None:
    url = checker.webhook_url("/voice/twiml?attempt=7")
    assert url == "https://voice.example.org/gr/voice/twiml?attempt=7"
    checker.check(url, FORM, twilio_signature(AUTH_TOKEN, url, FORM))


def test_twilio_may_sign_with_the_default_port(checker: SignatureChecker) -> None:
    url = checker.webhook_url("/voice/status?attempt=7")
    checker.check(url, FORM, twilio_signature(AUTH_TOKEN, url.replace(".org/", ".org:443/", 1), FORM))


@pytest.mark.parametrize(
    "forge",
    [
        lambda url, form: twilio_signature("another-token", url, form),                          # other account
        lambda url, form: twilio_signature(AUTH_TOKEN, url.replace("attempt=7", "attempt=8"), form),  # other URL
        lambda url, form: twilio_signature(AUTH_TOKEN, "http://127.0.0.1:8089/voice/twiml?attempt=7", form),
        lambda url, form: twilio_signature(AUTH_TOKEN, url, {**form, "CallStatus": "completed"}),  # changed field
        lambda url, form: "",
    ],
)
def test_forged_or_missing_signatures_are_refused(checker: SignatureChecker, forge) -> None:  # type: ignore[no-untyped-def]
    url = checker.webhook_url("/voice/twiml?attempt=7")
    with pytest.raises(ForgedRequest) as caught:
        checker.check(url, FORM, forge(url, FORM) or None)
    assert isinstance(caught.value, ChannelError)


def test_a_json_body_is_checked_by_its_hash_in_the_signed_url(checker: SignatureChecker) -> None:
    body = json.dumps({"CallSid": FORM["CallSid"]})
    digest = hashlib.sha256(body.encode()).hexdigest()
    url = checker.webhook_url(f"/voice/status?attempt=7&bodySHA256={digest}")
    signature = twilio_signature(AUTH_TOKEN, url)
    checker.check(url, body, signature)
    with pytest.raises(ForgedRequest):
        checker.check(url, body.replace("1", "2"), signature)


def test_the_stream_url_is_the_public_url_over_wss(checker: SignatureChecker) -> None:
    assert checker.stream_url() == "wss://voice.example.org/gr/voice/stream"
    signature = twilio_signature(AUTH_TOKEN, checker.stream_url())
    checker.check(checker.stream_url(), {}, signature)
    assert base64.b64decode(signature)  # a real base64 HMAC
