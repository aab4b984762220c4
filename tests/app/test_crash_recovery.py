"""A process killed mid-conversation: answers given are kept, and the questionnaire goes on where it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from campaigns import QUESTIONNAIRE_DIR
from campaigns.registry import load_and_register
from gridreach.identity import resident_sender_id
from gridreach.settings import Settings
from gridreach.store import Store
from gridreach_app.action_server import ActionServer, free_port
from gridreach_app.dialogue import DialogueError, EmbeddedDialogue, OnceOnly, start_message
from gridreach_app.model import PROJECT_ROOT, ensure_model


def test_killed_action_server_and_restarted_app(db_url: str, tmp_path: Path) -> None:
    store = Store.from_url(db_url)
    store.migrate()
    load_and_register(store, QUESTIONNAIRE_DIR)
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "T01", "测试网格")
    resident = store.add_resident("T01", "幸福小区1号", "测试", "+8613900000001", 1980, "zh")
    sender = resident_sender_id(resident)
    settings = Settings(home=tmp_path, database_url=db_url)
    model = ensure_model(PROJECT_ROOT / "models", quiet=True)
    port = free_port()

    async def scenario() -> list[list[str]]:
        said: list[list[str]] = []
        actions = ActionServer(settings, port=port).start()
        app = OnceOnly(await EmbeddedDialogue(model, actions.url, tmp_path / "trackers.db").start(), store)

        async def say(text: str, message_id: str) -> None:
            said.append([r.text for r in await app.handle(sender, text, "test", {"message_id": message_id}) if r.text])

        try:
            await say(start_message("daily_health"), "m0")
            await say("36度5", "m1")
            actions._proc.kill()  # type: ignore[union-attr]  # the action server dies mid-conversation
            with pytest.raises(DialogueError, match="not answering"):
                await say("没有", "m2")
            actions = ActionServer(settings, port=port).start()
            await say("没有", "m2")  # the channel redelivers the message that failed: it is handled now
            await say("没有", "m2")  # and a further redelivery is not an answer to the next question
            # the app process itself restarts: a new agent on the same conversation store
            app = OnceOnly(await EmbeddedDialogue(model, actions.url, tmp_path / "trackers.db").start(), store)
            await say("有", "m3")
        finally:
            actions.stop()
        return said

    said = asyncio.run(scenario())
    assert "咳嗽" in said[1][-1]
    assert "喉咙痛" in said[2][-1]
    assert said[3] == []
    assert "呼吸困难" in said[4][-1]
    answers = {k: a.value for k, a in store.latest_submission(resident).answers.items()}  # type: ignore[union-attr]
    assert answers == {"temperature": 36.5, "cough": "no", "sore_throat": "yes"}
