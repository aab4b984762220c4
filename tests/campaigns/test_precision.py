"""Precision first: a reply is stored only when it says one value plainly; otherwise it is confirmed or asked
again (the issue's table, dialect and colloquial forms, hedges, ranges, questions back)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from campaigns import Accepted, Questionnaire, Rejected, interpret
from campaigns.answers import HEDGED, UNKNOWN
from campaigns.engine import RunState
from campaigns.runner import take_turn

TODAY = date(2026, 3, 10)  # a Tuesday


def read(qs: dict[str, Questionnaire], where: str, text: str, lang: str = "zh") -> Any:
    qid, key = where.split(".")
    return interpret(qs[qid].question(key), text, lang, today=TODAY)


@pytest.mark.parametrize(("where", "text", "value"), [
    # the rows of the issue: stored right, or asked again
    ("daily_health.cough", "木有", "no"),
    ("daily_health.cough", "还好", "no"),
    ("daily_health.temperature", "昨天37今天36.8", 36.8),
    ("daily_health.temperature", "36,8", 36.8),
    ("daily_health.temperature", "37 and a half", 37.5),
    # dialect and colloquial forms
    ("daily_health.cough", "没得", "no"), ("daily_health.cough", "冇", "no"), ("daily_health.cough", "唔系", "no"),
    ("daily_health.travel", "去过", "yes"), ("daily_health.cough", "nope", "no"), ("daily_health.cough", "nah", "no"),
    ("daily_health.contact", "dunno", "not_sure"), ("daily_health.cough", "아뇨 괜찮아요", "no"),
    ("daily_health.cough", "없어요", "no"), ("daily_health.sore_throat", "안 아파요", "no"),
    ("daily_health.cough", "没有咳嗽，就是有点累", "no"), ("daily_health.sore_throat", "嗓子疼", "yes"),
    ("daily_health.temperature", "三十六度半", 36.5), ("daily_health.temperature", "서른여섯 도 반", 36.5),
    ("daily_health.temperature", "삼십육 도 칠 부", 36.7), ("daily_health.temperature", "thirty six five", 36.5),
    ("daily_health.temperature", "36。5", 36.5), ("daily_health.temperature", "没量", UNKNOWN),
    ("daily_health.temperature", "didn't measure", UNKNOWN),
    ("work_resumption.staff_count", "一千二", 1200.0), ("work_resumption.staff_count", "twelve hundred", 1200.0),
    ("work_resumption.staff_count", "1,200", 1200.0), ("work_resumption.staff_count", "3k", 3000.0),
    ("work_resumption.staff_count", "천이백 명", 1200.0), ("work_resumption.staff_count", "백오 명", 105.0),
    ("work_resumption.staff_from_other_provinces", "一个都没有", 0.0),
    ("work_resumption.staff_from_other_provinces", "no one", 0.0),
    ("traveller.arrival_date", "上周六", "2026-03-07"), ("traveller.arrival_date", "三天前", "2026-03-07"),
    ("traveller.arrival_date", "the eighth of March", "2026-03-08"), ("traveller.arrival_date", "사흘 전", "2026-03-07"),
    ("traveller.transport", "开车", "car"), ("traveller.quarantine", "没有隔离", "none"),
    ("traveller.origin", "我从武汉回来的", "武汉"),
])
def test_plain_replies_are_stored(questionnaires: dict[str, Questionnaire], where: str, text: str,
                                  value: Any) -> None:
    lang = "ko" if any("\uac00" <= ch <= "\ud7a3" for ch in text) else "zh"
    assert read(questionnaires, where, text, lang) == Accepted(value, text)


@pytest.mark.parametrize(("where", "text", "reason"), [
    ("daily_health.cough", "有没有啊", "question"),             # a question back
    ("daily_health.temperature", "36到37之间", "ambiguous"),     # a range
    ("daily_health.temperature", "36度多", "ambiguous"),         # "thirty-six and something"
    ("daily_health.temperature", "孩子37.2", "ambiguous"),       # someone else's
    ("daily_health.cough", "有，没有", "ambiguous"),             # yes-words and no-words
    ("daily_health.cough", "yes and no", "ambiguous"),
    ("daily_health.taste_smell", "闻不到", "ambiguous"),         # "can't smell" to "can you not smell?"
    ("work_resumption.staff_count", "100多", "ambiguous"),        # "over a hundred"
    ("work_resumption.staff_count", "两三个", "ambiguous"),
    ("work_resumption.staff_count", "two or three", "ambiguous"),
    ("work_resumption.staff_count", "2.5", "ambiguous"),          # never rounded into a count
    ("traveller.arrival_date", "昨天还是前天", "ambiguous"),
    ("traveller.arrival_date", "12号", "ambiguous"),              # the 12th is still to come on the 10th
    ("traveller.arrival_date", "明天", "ambiguous"),
    ("traveller.transport", "先坐飞机再坐火车", "ambiguous"),
    ("traveller.origin", "上海或者苏州", "ambiguous"),
    ("quarantine_followup.temperature", "没量", "unintelligible"),  # no explicit unknown allowed there
])
def test_unclear_replies_are_asked_again(questionnaires: dict[str, Questionnaire], where: str, text: str,
                                         reason: str) -> None:
    assert read(questionnaires, where, text) == Rejected(reason)


def test_english_slash_dates_that_read_two_ways_are_asked_again(questionnaires: dict[str, Questionnaire]) -> None:
    assert read(questionnaires, "traveller.arrival_date", "3/8", "en") == Rejected("ambiguous")
    assert read(questionnaires, "traveller.arrival_date", "3/8", "zh") == Accepted("2026-03-08", "3/8")


@pytest.mark.parametrize(("where", "text", "value"), [
    ("daily_health.temperature", "大概37度吧", 37.0),
    ("daily_health.temperature", "100", 37.8),          # Fahrenheit, most likely: asked back
    ("daily_health.contact", "可能有吧", "yes"),
    ("traveller.origin", "好像是武汉", "武汉"),
])
def test_hedged_replies_are_confirmed_not_stored(questionnaires: dict[str, Questionnaire], where: str, text: str,
                                                 value: Any) -> None:
    result = read(questionnaires, where, text)
    assert result == Accepted(value, text, HEDGED)
    qid, key = where.split(".")
    assert questionnaires[qid].question(key).confirm_below > HEDGED


def _at(q: Questionnaire, key: str, lang: str = "zh") -> RunState:
    return RunState(q.id, q.version, lang, current=key, content_hash=q.content_hash)


def test_a_classifier_guess_of_opt_out_is_asked_back(daily: Questionnaire) -> None:
    from campaigns import NluHints

    turn = take_turn(daily, _at(daily, "cough"), "blah", hints=NluHints("opt_out", 0.998))
    assert turn.interrupt == "confirm_opt_out" and not turn.step.state.opted_out
    assert turn.step.say == ["您是说以后不要再联系您了吗？是的话请回复「是」。"]
    yes = take_turn(daily, turn.step.state, "是的", hints=NluHints("affirm", 0.9))
    assert yes.interrupt == "opt_out" and yes.step.state.opted_out
    no = take_turn(daily, turn.step.state, "不是", hints=NluHints("deny", 0.9))
    assert no.interrupt is None and not no.step.state.opted_out and no.step.state.current == "cough"
    other = take_turn(daily, turn.step.state, "没有", hints=NluHints("deny", 0.9))  # "no", as the answer
    assert other.step.state.pending_interrupt is None


def test_an_explicit_stop_phrase_opts_out_at_once(daily: Questionnaire) -> None:
    turn = take_turn(daily, _at(daily, "cough"), "别再打了")
    assert turn.interrupt == "opt_out" and turn.step.state.opted_out


def test_a_valid_answer_wins_over_a_classifier_interruption(questionnaires: dict[str, Questionnaire]) -> None:
    from campaigns import NluHints

    work = questionnaires["work_resumption"]
    turn = take_turn(work, _at(work, "staff_count"), "一千二", hints=NluHints("repeat", 0.9))
    assert turn.interrupt is None and turn.step.accepted is not None and turn.step.accepted.value == 1200.0


@pytest.mark.parametrize("day", [date(2026, 3, 10), date(2026, 12, 7)])  # a Tuesday, a Monday
def test_whether_a_reply_answers_is_judged_on_the_run_s_day(questionnaires: dict[str, Questionnaire],
                                                            day: date) -> None:
    """"지난 일요일" is unclear on a Monday (yesterday, or a week before?) but clear on a Tuesday: whether it
    answers, and so outweighs the classifier's guess, is read against the run's day, not the clock's."""
    from campaigns import NluHints

    traveller = questionnaires["traveller"]
    turn = take_turn(traveller, _at(traveller, "arrival_date", "ko"), "지난 일요일",
                     hints=NluHints("opt_out", 0.41), context={"today": day})
    if day.weekday() == 1:
        assert turn.interrupt is None and turn.step.accepted is not None
        assert turn.step.accepted.value == "2026-03-08"
    else:
        assert turn.step.accepted is None and turn.interrupt == "confirm_opt_out"


def test_silence_to_an_opt_out_question_is_no_consent(daily: Questionnaire) -> None:
    from campaigns import NluHints

    asked = take_turn(daily, _at(daily, "cough"), "blah", hints=NluHints("opt_out", 0.99)).step.state
    silent = take_turn(daily, asked, "", no_input=True).step
    assert silent.state.pending_interrupt is None
    answered = take_turn(daily, silent.state, "有")
    assert not answered.step.state.opted_out and answered.step.accepted is not None


def test_a_repeat_while_an_opt_out_question_is_open_says_that_question(daily: Questionnaire) -> None:
    from campaigns import NluHints
    from campaigns.engine import repeat

    asked = take_turn(daily, _at(daily, "cough"), "blah", hints=NluHints("opt_out", 0.99)).step.state
    assert repeat(daily, asked).say == ["您是说以后不要再联系您了吗？是的话请回复「是」。"]


def test_a_confirmed_hand_over_on_a_choice_question_hands_over(questionnaires: dict[str, Questionnaire]) -> None:
    from campaigns import NluHints

    notice = questionnaires["notice_ack"]
    asked = take_turn(notice, _at(notice, "ack"), "blah blah", hints=NluHints("ask_human", 0.95)).step.state
    assert asked.pending_interrupt == "ask_human"
    done = take_turn(notice, asked, "是")
    assert done.interrupt == "ask_human" and done.step.state.asked_human and done.step.accepted is None


@pytest.mark.parametrize("text", ["好", "嗯", "ok", "好的，继续吧", "应该是吧"])
def test_agreement_or_a_hedge_is_no_consent_to_opt_out(daily: Questionnaire, text: str) -> None:
    from campaigns import NluHints

    asked = take_turn(daily, _at(daily, "cough"), "blah", hints=NluHints("opt_out", 0.99)).step.state
    assert not take_turn(daily, asked, text).step.state.opted_out


@pytest.mark.parametrize(("text", "hints"), [
    ("不想说", None), ("无可奉告", None), ("none of your business", None), ("안녕하세요", None),
    ("not interested", ("opt_out", 0.95)), ("I don't want these messages", ("opt_out", 0.95)),
])
def test_refusals_and_greetings_are_no_answers(daily: Questionnaire, text: str, hints: Any) -> None:
    from campaigns import NluHints

    turn = take_turn(daily, _at(daily, "cough"), text, hints=NluHints(*hints) if hints else None)
    assert turn.step.accepted is None and not turn.step.state.opted_out


@pytest.mark.parametrize(("text", "explicit"), [
    ("别再打了", "opt_out"), ("别 再 打 了", "opt_out"), ("不要联系我妈，她在住院", None), ("别给我打针", None),
    ("现在别打电话，我在开会", None), ("不需要找网格员", None), ("找网格员", "ask_human"),
])
def test_stop_phrases_are_read_for_good_only(text: str, explicit: str | None) -> None:
    from campaigns.interrupts import detect_interrupt

    assert detect_interrupt(text) == explicit
