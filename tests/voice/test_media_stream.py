"""The Media Streams serializer: Twilio's documented messages in, ours out, anything else a defined error."""

from __future__ import annotations

import base64
import json

import pytest

from voice_caller.media_stream import (
    Connected,
    Dtmf,
    Malformed,
    Mark,
    Media,
    Start,
    Stop,
    clear_message,
    mark_message,
    media_message,
    parse,
)

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL = "CA" + "1" * 32


def test_documented_messages_parse_to_typed_events() -> None:
    assert parse('{"event": "connected", "protocol": "Call", "version": "1.0.0"}') == Connected("Call", "1.0.0")
    start = parse(json.dumps({
        "event": "start", "sequenceNumber": "1", "streamSid": SID,
        "start": {"accountSid": "AC" + "2" * 32, "streamSid": SID, "callSid": CALL, "tracks": ["inbound"],
                  "customParameters": {"attempt": "17"},
                  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}))
    assert isinstance(start, Start)
    assert (start.stream_sid, start.call_sid, start.custom_parameters) == (SID, CALL, {"attempt": "17"})
    assert (start.encoding, start.sample_rate, start.channels, start.tracks) == ("audio/x-mulaw", 8000, 1, ("inbound",))
    audio = bytes(range(160))
    media = parse(json.dumps({"event": "media", "sequenceNumber": "3", "streamSid": SID, "media": {
        "track": "inbound", "chunk": "1", "timestamp": "5", "payload": base64.b64encode(audio).decode()}}))
    assert media == Media(audio, "inbound", 1, 5)
    assert parse(json.dumps({"event": "dtmf", "streamSid": SID, "sequenceNumber": "5",
                             "dtmf": {"track": "inbound_track", "digit": "#"}})) == Dtmf("#")
    assert parse(json.dumps({"event": "mark", "sequenceNumber": "4", "streamSid": SID,
                             "mark": {"name": "prompt-1"}})) == Mark("prompt-1")
    assert parse(json.dumps({"event": "stop", "sequenceNumber": "5", "streamSid": SID,
                             "stop": {"accountSid": "AC" + "2" * 32, "callSid": CALL}})) == Stop(CALL)


def test_start_takes_the_stream_sid_from_the_top_level_when_missing_inside() -> None:
    start = parse(json.dumps({"event": "start", "streamSid": SID, "start": {"callSid": CALL}}))
    assert isinstance(start, Start) and start.stream_sid == SID and start.custom_parameters == {}


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\x00\x01garbage", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"no": "event"}', "without an event"),
        ('{"event": "surprise"}', "unknown event"),
        ('{"event": "media"}', "'media' object"),
        ('{"event": "media", "media": {"payload": "***not base64***"}}', "not base64"),
        ('{"event": "media", "media": {"payload": 12}}', "without a payload"),
        ('{"event": "start", "start": {"streamSid": "MZ1"}}', "'callSid'"),
        ('{"event": "start", "streamSid": "MZ1", "start": {"callSid": "CA1", "customParameters": [1]}}',
         "customParameters"),
        ('{"event": "dtmf", "dtmf": {"digit": "x"}}', "not a phone key"),
        ('{"event": "mark", "mark": {}}', "'name'"),
    ],
)
def test_a_malformed_frame_is_an_error_event_never_an_exception(frame: str | bytes, reason: str) -> None:
    event = parse(frame)
    assert isinstance(event, Malformed)
    assert reason in event.reason


def test_a_malformed_frame_reason_does_not_copy_the_frame() -> None:
    event = parse('{"event": "media", "media": {"payload": "secret-words!"}}')
    assert isinstance(event, Malformed) and "secret" not in event.reason


def test_outbound_messages_have_the_documented_shape() -> None:
    audio = b"\xff" * 160
    media = json.loads(media_message(SID, audio))
    assert media == {"event": "media", "streamSid": SID, "media": {"payload": base64.b64encode(audio).decode()}}
    assert json.loads(mark_message(SID, "prompt-3")) == {"event": "mark", "streamSid": SID,
                                                          "mark": {"name": "prompt-3"}}
    assert json.loads(clear_message(SID)) == {"event": "clear", "streamSid": SID}
