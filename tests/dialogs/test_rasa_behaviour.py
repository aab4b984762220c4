"""What residents do besides answering, through the real Rasa core and action server."""

from __future__ import annotations

import asyncio

from gridreach_app.dialogue import OnceOnly, start_message
from tests.dialogs.conftest import Stack

HEALTHY_ZH = ["36度5", "没有", "没有", "没有", "没有", "没有", "没有"]


def _answers(stack: Stack, who: str) -> dict[str, object]:
    sub = stack.store.latest_submission(stack.residents[who])
    assert sub is not None
    return {k: a.value for k, a in sub.answers.items()}


def test_first_question_comes_in_the_residents_language(stack: Stack) -> None:
    zh = stack.fresh("语言-中文", "zh")
    en = stack.fresh("lang-en", "en")
    assert any("体温" in t for t in stack.texts(zh, start_message("daily_health")))
    assert any("temperature" in t.lower() for t in stack.texts(en, start_message("daily_health")))


def test_a_whole_screening_is_stored_with_raw_input(stack: Stack) -> None:
    sender = stack.fresh("完整排查")
    stack.texts(sender, start_message("daily_health"))
    replies: list[str] = []
    for text in ["三十七度五", "没有", "没有", "没有", "没有", "没有", "没有"]:
        replies = stack.texts(sender, text)
    sub = stack.store.latest_submission(stack.residents["完整排查"])
    assert sub is not None and sub.status == "complete" and sub.risk_level == "moderate"
    assert sub.answers["temperature"].value == 37.5
    assert sub.answers["temperature"].raw == "三十七度五"
    assert sub.answers["temperature"].channel == "test"
    assert any("谢谢" in t for t in replies)


def test_duplicate_delivery_is_answered_once(stack: Stack) -> None:
    sender = stack.fresh("重复投递")
    once = OnceOnly(stack.dialogue, stack.store)

    def say(text: str, message_id: str) -> list[str]:
        future = asyncio.run_coroutine_threadsafe(
            once.handle(sender, text, "test", {"message_id": message_id}), stack.loop
        )
        return [r.text for r in future.result(timeout=60) if r.text]

    say(start_message("daily_health"), "dup-0")
    first = say("36度6", "dup-1")
    again = say("36度6", "dup-1")  # the channel redelivers the same message
    assert first and again == []
    say("没有", "dup-2")
    assert _answers(stack, "重复投递") == {"temperature": 36.6, "cough": "no"}


def test_opt_out_mid_questionnaire_keeps_answers_and_stops_further_screening(stack: Stack) -> None:
    sender = stack.fresh("中途退出")
    stack.texts(sender, start_message("daily_health"))
    stack.texts(sender, "36度6")
    stack.texts(sender, "没有")
    reply = stack.texts(sender, "别再打了")
    sub = stack.store.latest_submission(stack.residents["中途退出"])
    assert sub is not None and sub.status == "abandoned"
    assert {k: a.value for k, a in sub.answers.items()} == {"temperature": 36.6, "cough": "no"}
    assert stack.store.has_opted_out(stack.residents["中途退出"], "test")
    assert any("不再打扰" in t for t in reply)
    again = stack.texts(sender, start_message("daily_health"))
    assert any("不再接收" in t for t in again)
    assert stack.store.latest_submission(stack.residents["中途退出"]).id == sub.id  # type: ignore[union-attr]


def test_asking_for_a_person_tells_the_grid_worker_and_the_questionnaire_goes_on(stack: Stack) -> None:
    sender = stack.fresh("找人工")
    stack.texts(sender, start_message("daily_health"))
    replies = stack.say(sender, "我要找网格员")
    handoff = [r.custom["handoff"] for r in replies if "handoff" in r.custom]
    assert handoff == [{"phone": "+8613800138000", "name": "王网格"}]
    assert any("王网格" in (r.text or "") for r in replies)
    assert any("体温" in (r.text or "") for r in replies)  # asked again
    actions = [e.action for e in stack.store.audit_entries()]
    assert "handoff_requested" in actions
    stack.texts(sender, "36度5")
    assert _answers(stack, "找人工") == {"temperature": 36.5}


def test_repeat_says_the_current_question_again(stack: Stack) -> None:
    sender = stack.fresh("再说一遍")
    first = stack.texts(sender, start_message("daily_health"))
    stack.texts(sender, "36度5")
    question = stack.texts(sender, "没有")
    again = stack.texts(sender, "你说什么？再说一遍")
    assert question[-1] == again[-1]
    assert first != again
    assert _answers(stack, "再说一遍") == {"temperature": 36.5, "cough": "no"}


def test_two_residents_answering_at_once_keep_their_own_answers(stack: Stack) -> None:
    a = stack.fresh("并发甲")
    b = stack.fresh("并发乙", "en")

    async def run(sender: str, replies: list[str]) -> None:
        await stack.dialogue.handle(sender, start_message("daily_health"), "test")
        for text in replies:
            await stack.dialogue.handle(sender, text, "test")

    async def both() -> None:
        await asyncio.gather(run(a, ["39度", "有", "有", "有"]), run(b, ["36.4", "no", "no", "no"]))

    asyncio.run_coroutine_threadsafe(both(), stack.loop).result(timeout=120)
    assert _answers(stack, "并发甲") == {"temperature": 39.0, "cough": "yes", "sore_throat": "yes", "breathing": "yes"}
    assert _answers(stack, "并发乙") == {"temperature": 36.4, "cough": "no", "sore_throat": "no", "breathing": "no"}


def test_an_unknown_person_is_told_to_register(stack: Stack) -> None:
    replies = stack.texts("telegram:999999", start_message("daily_health"))
    assert any("网格员" in t for t in replies)


def test_outside_a_questionnaire_greetings_and_help_are_answered(stack: Stack) -> None:
    sender = stack.fresh("闲聊")
    assert any("网格助手" in t for t in stack.texts(sender, "你好"))
    assert any("Hello" in t for t in stack.texts(sender, "hello"))
    assert any("开始排查" in t for t in stack.texts(sender, "这是干什么的"))


def test_resident_starts_a_screening_by_typing(stack: Stack) -> None:
    sender = stack.fresh("自己开始")
    replies = stack.texts(sender, "开始排查")
    assert any("体温" in t for t in replies)


def test_a_trigger_for_an_unknown_campaign_or_questionnaire_is_refused_cleanly(stack: Stack) -> None:
    sender = stack.fresh("坏的触发")
    assert any("停用" in t for t in stack.texts(sender, start_message("daily_health", 987654)))
    assert any("停用" in t for t in stack.texts(sender, '/start_questionnaire{"questionnaire": "daily_health", "campaign": "x1"}'))
    assert any("停用" in t for t in stack.texts(sender, start_message("no_such_questionnaire")))
    assert stack.store.latest_submission(stack.residents["坏的触发"]) is None
    assert any("体温" in t for t in stack.texts(sender, start_message("daily_health")))


def test_opt_out_with_nothing_running_is_recorded(stack: Stack) -> None:
    sender = stack.fresh("直接退订")
    assert any("不再打扰" in t for t in stack.texts(sender, "以后别再打了"))
    assert stack.store.has_opted_out(stack.residents["直接退订"], "test")
    assert stack.store.latest_submission(stack.residents["直接退订"]) is None


def test_a_questionnaire_guessed_from_an_answer_never_switches_the_running_one(stack: Stack) -> None:
    sender = stack.fresh("开车来的")
    stack.texts(sender, start_message("traveller"))
    stack.texts(sender, "武汉")
    stack.texts(sender, "昨天")
    stack.texts(sender, "开车")  # "by car": the classifier may say start_questionnaire; it is the answer
    sub = stack.store.latest_submission(stack.residents["开车来的"])
    assert sub is not None and sub.questionnaire_id == "traveller" and sub.answers["transport"].value == "car"


def test_the_same_trigger_resumes_and_another_one_replaces_the_running_run(stack: Stack) -> None:
    sender = stack.fresh("换问卷")
    resident = stack.residents["换问卷"]
    stack.texts(sender, start_message("daily_health"))
    stack.texts(sender, "36度5")
    again = stack.texts(sender, start_message("daily_health"))  # a retried call: where it was
    assert any("咳嗽" in t for t in again), again
    first = stack.store.latest_submission(resident)
    assert first is not None and first.questionnaire_id == "daily_health"
    other = stack.texts(sender, start_message("traveller"))  # the app asks for another questionnaire
    assert any("哪个城市" in t for t in other), other
    closed = stack.store.get_submission(first.id)
    assert closed is not None and closed.status == "abandoned" and closed.answers["temperature"].value == 36.5
    stack.texts(sender, "上海")
    now = stack.store.latest_submission(resident)
    assert now is not None and now.questionnaire_id == "traveller" and now.answers["origin"].value == "上海"
