"""bots.telegram.api (python-telegram-bot) against the fake Bot API: calls, keyboards, errors translated."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bots.telegram.api import TelegramApi
from bots.telegram.config import TelegramSettings
from gridreach.errors import (
    ChannelUnavailable,
    ChatMoved,
    ConfigError,
    GridReachError,
    RateLimited,
    RecipientGone,
    Refused,
)
from gridreach_fakes.telegram import FakeTelegram


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(per_chat=(2, 60.0)) as server:
        yield server


@pytest.fixture
async def api(fake: FakeTelegram) -> AsyncIterator[TelegramApi]:
    settings = TelegramSettings(token=fake.token, bot_username=fake.username, base_url=fake.base_url,
                                mode="polling", poll_timeout=1)
    client = TelegramApi(settings)
    me = await client.start()
    assert me["username"] == fake.username
    yield client
    await client.close()


async def test_messages_keyboards_edits_and_callbacks(fake: FakeTelegram, api: TelegramApi) -> None:
    user = fake.user(501, "Li")
    fake.private_text(user, "hello")  # makes the private chat known
    keyboard = {"inline_keyboard": [[{"text": "是", "callback_data": "a:cough:1"},
                                     {"text": "否", "callback_data": "a:cough:2"}]]}
    mid = await api.send_message(501, "您最近有没有咳嗽？", keyboard)
    [sent] = fake.messages(501)
    assert sent["message_id"] == mid and sent["reply_markup"] == keyboard
    contact = {"keyboard": [[{"text": "Share my phone", "request_contact": True}]], "one_time_keyboard": True}
    await api.send_message(501, "phone?", contact)
    assert fake.messages(501)[1]["sent_markup"]["keyboard"][0][0]["request_contact"] is True
    await api.edit_markup(501, mid, None)
    await api.edit_markup(501, mid, None)  # "message is not modified" is not an error
    assert "reply_markup" not in fake.messages(501)[0]
    await api.edit_text(501, mid, "您最近有没有咳嗽？ ✓ 是")
    assert fake.texts(501)[0].endswith("✓ 是")
    fake.press(user, fake.messages(501)[0], "a:cough:1")
    query = next(u["callback_query"] for u in fake.updates.values() if "callback_query" in u)
    await api.answer_callback(query["id"], "OK")
    assert fake.callback_answers == [{"callback_query_id": query["id"], "text": "OK"}]
    with pytest.raises(Refused):
        await api.answer_callback(query["id"], "again")


async def test_errors_are_translated(fake: FakeTelegram, api: TelegramApi) -> None:
    user = fake.user(502)
    fake.private_text(user, "hi")
    await api.send_message(502, "one")
    await api.send_message(502, "two")
    with pytest.raises(RateLimited) as limited:
        await api.send_message(502, "three")
    assert limited.value.retry_after >= 1
    fake.group(-300, "G")
    fake.fail_next("sendMessage", 500)
    with pytest.raises(ChannelUnavailable):
        await api.send_message(-300, "x")
    fake.fail_next("sendMessage", 502)
    with pytest.raises(ChannelUnavailable):
        await api.send_message(-300, "x")
    with pytest.raises(Refused, match=r"(?i)chat not found"):
        await api.send_message(-999, "x")
    with pytest.raises(Refused, match=r"(?i)too long"):
        await api.send_message(-300, "x" * 4097)
    fake.block_bot(user)
    fake.remove_bot(-300, user)
    with pytest.raises(RecipientGone, match="blocked"):
        await api.send_message(502, "x")
    with pytest.raises(RecipientGone, match="kicked"):
        await api.send_message(-300, "x")
    fake.group(-301, "H")
    fake.migrate_group(-301, -1001301, user)
    with pytest.raises(ChatMoved) as moved:
        await api.send_message(-301, "x")
    assert moved.value.new_chat_id == -1001301
    assert isinstance(moved.value, GridReachError)


async def test_long_poll_and_webhook_conflict(fake: FakeTelegram, api: TelegramApi) -> None:
    assert await api.get_updates(None, 0) == []
    fake.private_text(fake.user(503), "/start abc")
    [update] = await api.get_updates(None, 1)
    assert update["message"]["text"] == "/start abc" and update["message"]["from"]["id"] == 503
    assert await api.get_updates(update["update_id"] + 1, 0) == []  # the offset confirmed it
    await api.set_webhook("http://127.0.0.1:9/hook", "s3cret")
    with pytest.raises(Refused, match="webhook is active"):
        await api.get_updates(None, 0)
    await api.delete_webhook()
    assert await api.get_updates(None, 0) == []


def test_settings_are_checked_and_keep_secrets_out_of_repr() -> None:
    s = TelegramSettings.from_mapping({"token": "123:abc_DEF", "bot_username": "@grid_bot",
                                       "webhook_secret": "hush-hush", "per_group": [20, 60]})
    assert s.bot_username == "grid_bot" and s.per_group.count == 20
    assert "abc_DEF" not in repr(s) and "hush" not in repr(s)
    cases = [({"bot_username": "grid_bot"}, "token"),
             ({"token": "nope", "bot_username": "grid_bot"}, "token"),
             ({"token": "1:a", "bot_username": "grid_bot"}, "webhook_secret"),
             ({"token": "1:a", "bot_username": "grid_bot", "mode": "polling", "base_url": "ftp://x"}, "base_url"),
             ({"token": "1:a", "bot_username": "grid_bot", "mode": "push"}, "mode"),
             ({"token": "1:a", "bot_username": "grid_bot", "mode": "polling", "per_chat": [0, 1]}, "per_chat"),
             ({"token": "1:a", "bot_username": "grid_bot", "tokn": "x"}, "tokn")]
    for data, key in cases:
        with pytest.raises(ConfigError) as err:
            TelegramSettings.from_mapping(data)
        assert err.value.key == key, data


async def test_the_rasa_channel_loads_from_credentials_and_collects_replies(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: object) -> None:
    from rasa.core.channels.channel import UserMessage
    from rasa.core.run import _create_single_channel

    from bots.rasa_adapter import RasaDialogue
    from bots.telegram.channel import TelegramInput

    monkeypatch.setenv("GRIDREACH_DATABASE_URL", f"sqlite:///{tmp_path}/g.db")
    channel = _create_single_channel("bots.telegram.TelegramInput",
                                     {"token": "123:abc", "bot_username": "grid_bot", "webhook_secret": "s-1"})
    assert isinstance(channel, TelegramInput) and channel.name() == "telegram_gridreach"
    assert channel.get_output_channel() is None  # nothing runs before the blueprint is made

    seen: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        seen.append(message)
        await message.output_channel.send_text_message(message.sender_id, "您好")
        await message.output_channel.send_custom_json(message.sender_id, {"expect": {"question": "cough"}})

    replies = await RasaDialogue(on_new_message).handle("telegram:7", "hi", "telegram", {"message_id": "7:1"})
    assert [r.text for r in replies] == ["您好", None] and replies[1].custom == {"expect": {"question": "cough"}}
    assert seen[0].metadata == {"channel": "telegram", "message_id": "7:1"} and seen[0].sender_id == "telegram:7"
    blueprint = channel.blueprint(on_new_message)
    assert blueprint.name == "telegram_gridreach_webhook" and channel.get_output_channel() is not None
    from gridreach.dialogue import OnceOnly

    assert channel.runtime is not None  # under `rasa run` each delivery is answered once, as under `gridreach serve`
    assert isinstance(channel.runtime.bot.dialogue, OnceOnly)
    assert isinstance(channel.runtime.bot.dialogue.inner, RasaDialogue)
