"""The log scrubber itself (``dialogs.redact``), on the shapes of line Rasa, rasa_sdk and Sanic really write."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from dialogs import redact


def test_rasa_lines_keep_their_shape_and_lose_the_resident(debug_logs: pytest.LogCaptureFixture) -> None:
    processor = logging.getLogger("rasa.core.processor")
    processor.debug("Received user message '体温36.7度，电话13912345678' with intent '{'name': 'inform'}'")
    processor.debug("Predicted next action 'validate_questionnaire_form' with confidence 0.98.")
    logging.getLogger("rasa.shared.core.events").debug(
        "UserUttered(text: I have a cough since Monday, intent: inform, use_text_for_featurization: False)")
    logging.getLogger("rasa.core.actions.action").debug("SlotSet(key: q_answer, value: 37.2)")
    text = debug_logs.text
    for leaked in ("36.7", "体温", "13912345678", "cough since Monday", "37.2"):
        assert leaked not in text
    assert "validate_questionnaire_form" in text and "Received user message" in text and "SlotSet" in text


def test_a_failed_actions_traceback_keeps_types_not_the_reply(debug_logs: pytest.LogCaptureFixture) -> None:
    body = json.dumps({"error": "boom", "request_body": {"tracker": {"latest_message": {"text": "发烧38.5度"}}}})
    try:
        try:
            raise ValueError(f"500, Internal Server Error, body='{body}'")
        except ValueError as inner:
            raise RuntimeError("Failed to execute custom action 'validate_questionnaire_form'") from inner
    except RuntimeError:
        logging.getLogger("rasa.core.processor").exception("Encountered an exception while running action")
    assert "38.5" not in debug_logs.text and "发烧" not in debug_logs.text
    assert "RuntimeError" in debug_logs.text and "ValueError" in debug_logs.text
    assert "validate_questionnaire_form" in debug_logs.text


def test_tokens_leave_access_logs_and_urls_of_any_logger(debug_logs: pytest.LogCaptureFixture) -> None:
    logging.getLogger("sanic.access").info("", extra={"request": "GET /conversations/x/tracker?token=s3cr3t-value",
                                                      "host": "127.0.0.1:5005", "status": 401, "byte": 10})
    logging.getLogger("gridreach.anything").warning("calling http://h/webhook?token=s3cr3t-value&x=1 for +8613912345678")
    record = debug_logs.records[0]
    assert "s3cr3t" not in record.__dict__["request"]
    assert "s3cr3t" not in debug_logs.text and "13912345678" not in debug_logs.text
    assert "calling http://h/webhook?token=" in debug_logs.text  # our own lines keep their words


def test_structlog_events_keep_their_name_and_lose_their_values(debug_logs: pytest.LogCaptureFixture) -> None:
    structlog.get_logger().debug("processor.message.parse", parse_data_text="咳嗽三天了 36.9",
                                 parse_data_intent={"name": "inform", "confidence": 0.91},
                                 parse_data_entities=[{"entity": "number", "value": 36.9}])
    assert "processor.message.parse" in debug_logs.text
    assert "36.9" not in debug_logs.text and "咳嗽" not in debug_logs.text


def test_a_json_line_is_scrubbed_value_by_value() -> None:
    line = json.dumps({"event": "rest.message.received.failure", "text": "no cough", "level": "error",
                       "sender_id": "resident-7", "confidence": 0.5})
    out = json.loads(redact.scrub(line))
    assert out["event"] == "rest.message.received.failure" and out["level"] == "error"
    assert out["text"] == redact.MASK and out["confidence"] == redact.MASK
    assert out["sender_id"] == "resident-7"  # a pseudonymous id, kept so that a line can be followed
