"""No answer value, message text or phone number in any log line at any level (issue 9, item 5).

Conversations with marker answers run through the shared real stack (Rasa agent in this process, the action server
child logging at DEBUG) with every Rasa, rasa_sdk, Sanic and HTTP-client logger at DEBUG; every line caught by
``caplog``, written to this process's stdout / stderr, or written to the action server's log file is scanned.
Among the scenarios is a failing action, whose reply Rasa's processor logs at ERROR.
"""

from __future__ import annotations

import logging

import pytest

from gridreach_app.dialogue import start_message
from tests.dialogs.conftest import Stack

TEMPERATURE = "36.7"
RESIDENT_PHONE = "+8613977775555"
WORKER_PHONE = "+8613800138000"  # the stack's grid worker, sent in the hand-over's json message
TEXT_MARKERS = ("斑马七七八一", "zebracrossing", "Xylophone")
MARKERS = (TEMPERATURE, "36,7", RESIDENT_PHONE, RESIDENT_PHONE[3:], WORKER_PHONE[3:], *TEXT_MARKERS)


def _scenarios(stack: Stack) -> int:
    """Marker conversations; returns how many replies came back (so that the test knows they ran)."""
    sender = stack.fresh("日志标记")
    replies = 0
    said = [
        (start_message("daily_health"), {}),
        (f"体温{TEMPERATURE}度 {TEXT_MARKERS[0]}", {"message_id": "m-1"}),
        ("没有", {"message_id": "m-2"}),
        (f"我要找网格员 {TEXT_MARKERS[1]}", {"message_id": "m-3"}),
        (f"我的电话是{RESIDENT_PHONE} {TEXT_MARKERS[2]}", {"message_id": "m-4"}),
        # a failing action (a trusted `today` that is no date): Rasa logs the action server's reply at ERROR
        (f"{TEMPERATURE} {TEXT_MARKERS[1]}", {"message_id": "m-5", "today": "garbage-day"}),
        ("2", {"message_id": "m-6", "keypad": True}),
    ]
    for text, meta in said:
        replies += len(stack.say(sender, text, **meta))
    english = stack.fresh("log marker en", "en")
    for text in (start_message("daily_health"), f"{TEMPERATURE} degrees {TEXT_MARKERS[2]}", "no",
                 f"call me at {RESIDENT_PHONE}, {TEXT_MARKERS[1]}"):
        replies += len(stack.say(english, text))
    return replies


def test_marker_answers_texts_and_phones_never_reach_a_log(
        stack: Stack, debug_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    assert stack.action_log is not None
    offset = stack.action_log.stat().st_size if stack.action_log.exists() else 0
    assert _scenarios(stack) > 5

    lines = [debug_logs.text, *(r.getMessage() for r in debug_logs.records)]
    out, err = capfd.readouterr()
    lines += [out, err]
    with stack.action_log.open(encoding="utf-8", errors="replace") as f:
        f.seek(offset)
        action_log = f.read()
    lines.append(action_log)
    everything = "\n".join(lines)

    # the capture really was at DEBUG, and really saw the failure
    assert any(r.levelno == logging.DEBUG and r.name.startswith("rasa") for r in debug_logs.records)
    assert any(r.levelno >= logging.ERROR and r.name.startswith("rasa") for r in debug_logs.records)
    assert "DEBUG" in action_log and "failed with ValueError" in action_log
    leaks = [m for m in MARKERS if m in everything]
    context = {m: everything[max(0, everything.find(m) - 200): everything.find(m) + 100] for m in leaks}
    assert not leaks, context
