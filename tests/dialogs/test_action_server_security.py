"""The action server answers only Rasa, only about the sender's own run, on loopback, and echoes nothing.

Issue 9, item 1 (and item 2's metadata): these run against the shared stack's real action server child and
Rasa agent.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import httpx
import pytest

from gridreach_app.dialogue import split_token, start_message
from tests.dialogs.conftest import Stack

MARKER_TEXT = "斑马标记 zebra-7781 36.7"


def _door(stack: Stack) -> tuple[str, str]:
    url, token = split_token(stack.action_url)
    assert token
    return url.rsplit("/", 1)[0], token


def _listening_addresses(port: int) -> set[str]:
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if int(hex_port, 16) == port and state == "0A":  # LISTEN
                    found.add(address)
    return found


def _call(stack: Stack, action: str, sender: str, slots: dict[str, Any], text: str = "/start_questionnaire",
          metadata: dict[str, Any] | None = None) -> httpx.Response:
    base, token = _door(stack)
    body = {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {"slots": {}, "forms": {"questionnaire_form": {"required_slots": ["q_answer"]}}},
        "tracker": {
            "sender_id": sender,
            "slots": {"requested_slot": "q_answer", **slots, "q_answer": text},
            "latest_message": {"text": text, "intent": {"name": "inform", "confidence": 1.0}, "entities": [],
                               "metadata": metadata or {}},
            "events": [{"event": "user", "text": text, "input_channel": "test", "metadata": metadata or {}},
                       {"event": "slot", "name": "q_answer", "value": text}],
            "active_loop": {"name": "questionnaire_form"},
            "latest_action_name": "action_listen",
        },
    }
    return httpx.post(f"{base}/webhook", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _running(stack: Stack, who: str) -> tuple[str, int, dict[str, Any]]:
    """A resident with a running daily_health submission; returns its sender, submission id and the slots."""
    sender = stack.fresh(who)
    stack.texts(sender, start_message("daily_health"))
    tracker = stack.tracker(sender)
    slots = tracker["slots"]
    return sender, int(slots["submission_id"]), slots


def test_the_action_server_listens_on_loopback_only(stack: Stack) -> None:
    base, _ = _door(stack)
    port = int(base.rsplit(":", 1)[1])
    assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else (no 0.0.0.0, no ::)


def test_a_call_without_the_token_is_refused_before_its_body_is_read(stack: Stack) -> None:
    base, token = _door(stack)
    port = int(base.rsplit(":", 1)[1])
    for auth in ("", "Authorization: Bearer wrong-token-wrong-token\r\n", f"X-Token: {token}\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            # announces 100 MB and sends none of it: an answer can only come if the body is not awaited
            sock.sendall(f"POST /webhook HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n"
                         f"Content-Length: 100000000\r\n\r\n".encode())
            started = time.monotonic()
            head = sock.recv(4096).decode(errors="replace")
        assert head.startswith("HTTP/1.1 401"), head
        assert time.monotonic() - started < 3
    assert httpx.get(f"{base}/actions", timeout=5).status_code == 401
    assert httpx.get(f"{base}/actions?token={token}", timeout=5).status_code == 200
    assert "instance" not in httpx.get(f"{base}/health", timeout=5).json()


def test_a_body_over_the_cap_is_refused_unread_with_the_token(stack: Stack) -> None:
    base, token = _door(stack)
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"POST /webhook HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                     f"Content-Length: 100000000\r\n\r\n".encode())
        assert sock.recv(4096).decode().startswith("HTTP/1.1 413")


def test_a_slot_naming_another_residents_submission_is_refused(stack: Stack) -> None:
    _, victim_submission, victim_slots = _running(stack, "受害者甲")
    attacker = stack.fresh("攻击者乙")
    for action in ("validate_questionnaire_form", "action_opt_out", "action_submit_questionnaire"):
        answer = _call(stack, action, attacker, {**victim_slots, "resident_id": None}, text="36.5")
        assert answer.status_code == 403, answer.text
        assert "another resident" in answer.json()["error"]
    # the same with the victim's resident_id slot copied too
    answer = _call(stack, "validate_questionnaire_form", attacker, victim_slots, text="36.5")
    assert answer.status_code == 403
    submission = stack.store.get_submission(victim_submission)
    assert submission is not None and submission.status == "in_progress" and submission.answers == {}
    victim = stack.residents["受害者甲"]
    assert not stack.store.has_opted_out(victim, "test")


def test_an_unbound_sender_cannot_use_a_submission_slot(stack: Stack) -> None:
    _, submission, slots = _running(stack, "受害者丙")
    answer = _call(stack, "validate_questionnaire_form", "telegram:999000111", slots, text="36.5")
    assert answer.status_code == 403
    assert stack.store.get_submission(submission).answers == {}  # type: ignore[union-attr]


def test_answers_in_the_state_slot_must_be_the_stored_ones(stack: Stack) -> None:
    sender, submission, slots = _running(stack, "伪造答案丁")
    forged = dict(slots["q_state"], answers={"temperature": 39.5}, current="cough")
    answer = _call(stack, "validate_questionnaire_form", sender, {**slots, "q_state": forged}, text="no")
    assert answer.status_code == 403 and "answer" in answer.json()["error"]
    other = dict(slots["q_state"], questionnaire_id="travel_history")
    assert _call(stack, "validate_questionnaire_form", sender, {**slots, "q_state": other}).status_code == 403
    # the genuine state goes through, and the answer is stored
    assert _call(stack, "validate_questionnaire_form", sender, slots, text="36.6").status_code == 200
    assert stack.store.get_submission(submission).answers["temperature"].value == 36.6  # type: ignore[union-attr]


def test_a_failing_action_answers_a_fixed_message_and_echoes_nothing(stack: Stack) -> None:
    sender, _, slots = _running(stack, "失败动作戊")
    broken = dict(slots["q_state"], status="no-such-status")
    answer = _call(stack, "validate_questionnaire_form", sender, {**slots, "q_state": broken}, text=MARKER_TEXT,
                   metadata={"phone": "+8613911112222"})
    assert answer.status_code == 500
    assert set(answer.json()) == {"error", "action_name"}
    for marker in ("zebra-7781", "36.7", "斑马", "13911112222", "no-such-status", sender):
        assert marker not in answer.text
    assert stack.action_log is not None
    log = stack.action_log.read_text(encoding="utf-8")
    assert "failed with ValueError" in log
    for marker in ("zebra-7781", "36.7", "斑马", "13911112222"):
        assert marker not in log


@pytest.mark.parametrize("channel, stored", [("test", "no"), ("rest", None)])
def test_keypad_metadata_counts_only_from_a_trusted_channel(stack: Stack, channel: str, stored: str | None) -> None:
    sender = stack.fresh(f"按键{channel}")
    stack.texts(sender, start_message("daily_health"), channel)
    stack.texts(sender, "36.5", channel)
    stack.texts(sender, "2", channel, keypad=True, message_id=f"{sender}-2")  # keypad 2 = no, for cough
    submission = stack.store.latest_submission(stack.residents[f"按键{channel}"])
    assert submission is not None
    cough = submission.answers.get("cough")
    assert (cough.value if cough else None) == stored


def test_metadata_from_the_rest_channel_cannot_choose_the_day_or_the_channel(stack: Stack) -> None:
    sender = stack.fresh("日期伪造")
    forged = {"today": "not-a-date", "channel": "voice", "message_id": "forged-1"}
    asyncio.run_coroutine_threadsafe(
        stack.dialogue.handle(sender, start_message("daily_health"), "rest", forged), stack.loop).result(timeout=120)
    state = stack.tracker(sender)["slots"]["q_state"]
    assert state is not None and state["status"] == "in_progress"  # a trusted `today` this bad would fail the action
    submission = stack.store.latest_submission(stack.residents["日期伪造"])
    assert submission is not None and submission.channel == "rest"
