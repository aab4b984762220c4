"""The dialogue port: the remote implementation over real HTTP, and once-only delivery."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from gridreach.dialogue import typed
from gridreach_app.dialogue import DialogueError, OnceOnly, RemoteDialogue, Reply, start_message


class FakeRasa(BaseHTTPRequestHandler):
    """Rasa's REST channel, as far as the port uses it; `mode` picks a failure."""

    mode = "ok"
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeRasa.seen.append({"path": self.path, **body})
        if FakeRasa.mode == "500":
            self.send_response(500)
            self.end_headers()
            return
        payload = b"<html>oops</html>" if FakeRasa.mode == "html" else json.dumps(
            [{"recipient_id": body["sender"], "text": f"echo {body['message']}"},
             {"recipient_id": body["sender"], "custom": {"handoff": {"phone": "+8613800138000"}}}]
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def rasa_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeRasa.mode, FakeRasa.seen = "ok", []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def remote_call(url: str, text: str, channel: str, metadata: dict[str, Any] | None = None,
                timeout: float = 30.0) -> list[Reply]:
    """One turn through a fresh RemoteDialogue, closed afterwards."""

    async def go() -> list[Reply]:
        remote = RemoteDialogue(url, timeout=timeout)
        try:
            return await remote.handle("resident-7", text, channel, metadata)
        finally:
            await remote.aclose()

    return asyncio.run(go())


def test_remote_dialogue_posts_to_the_rest_channel(rasa_url: str) -> None:
    replies = remote_call(rasa_url, "没有", "telegram", {"message_id": "m1"})
    assert replies[0].text == "echo 没有"
    assert replies[1].custom == {"handoff": {"phone": "+8613800138000"}}
    assert FakeRasa.seen == [{"path": "/webhooks/rest/webhook", "sender": "resident-7", "message": "没有",
                              "metadata": {"channel": "telegram", "message_id": "m1"}}]


@pytest.mark.parametrize("mode", ["500", "html"])
def test_remote_dialogue_turns_bad_answers_into_a_clear_error(rasa_url: str, mode: str) -> None:
    FakeRasa.mode = mode
    with pytest.raises(DialogueError, match="Rasa at"):
        remote_call(rasa_url, "hi", "test")


def test_remote_dialogue_unreachable_is_a_clear_error() -> None:
    with pytest.raises(DialogueError, match="unreachable"):
        remote_call("http://127.0.0.1:9", "hi", "test", timeout=2)


class Flaky:
    def __init__(self) -> None:
        self.calls = 0

    async def handle(self, sender_id: str, text: str, channel: str, metadata: dict[str, Any] | None = None
                     ) -> list[Reply]:
        self.calls += 1
        if self.calls == 1:
            raise DialogueError("core down")
        return [Reply(text="ok")]


def test_once_only_answers_a_redelivery_once_and_releases_a_failed_turn(store: Any) -> None:
    inner = Flaky()
    once = OnceOnly(inner, store)
    with pytest.raises(DialogueError):
        asyncio.run(once.handle("resident-1", "没有", "wechat", {"message_id": "A"}))
    assert asyncio.run(once.handle("resident-1", "没有", "wechat", {"message_id": "A"})) == [Reply(text="ok")]
    assert asyncio.run(once.handle("resident-1", "没有", "wechat", {"message_id": "A"})) == []
    assert asyncio.run(once.handle("resident-1", "没有", "telegram", {"message_id": "A"})) == [Reply(text="ok")]
    assert inner.calls == 3


def test_start_message_is_an_intent_trigger() -> None:
    assert start_message("daily_health", 3) == '/start_questionnaire{"questionnaire": "daily_health", "campaign": "3"}'


def test_typed_text_is_never_read_as_an_intent_and_triggers_are() -> None:
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    trigger = start_message("daily_health", 3)
    assert YAMLStoryReader.unpack_regex_message(Message({"text": trigger})).get("intent")["name"] == \
        "start_questionnaire"
    for text in (trigger, " " + trigger, "/restart", "/help"):
        safe = typed(text)
        assert safe.endswith(text) and safe != text
        message = Message({"text": safe})
        assert YAMLStoryReader.unpack_regex_message(message) is message  # left as text for the NLU
    assert typed("36.8") == "36.8" and typed("a/b") == "a/b" and typed("") == ""
