"""Table-driven tests of campaigns.normalize, in zh, en and ko."""

from __future__ import annotations

from datetime import date

import pytest

from campaigns.normalize import (
    detect_language,
    parse_date,
    parse_number,
    parse_temperature,
    parse_transport_no,
    parse_yes_no,
)

TODAY = date(2026, 2, 10)


@pytest.mark.parametrize(("text", "expected"), [
    ("37.5", 37.5), ("３７．５", 37.5), ("120", 120.0), ("1,200", 1200.0), ("3万", 30000.0),
    ("三十七点五", 37.5), ("两", 2.0), ("零", 0.0), ("十", 10.0), ("十五", 15.0),
    ("一百零五", 105.0), ("一百二十人", 120.0), ("一千二", 1200.0), ("两万三", 23000.0),
    ("37点5", 37.5), ("我今年七十岁", 70.0),
    ("삼십칠 점 오", 37.5), ("37.5도", 37.5), ("체온이 삼십칠 점 오 도입니다", 37.5), ("백이십", 120.0),
    ("thirty seven point five", 37.5), ("one hundred and five", 105.0), ("fifteen", 15.0),
    ("twenty-two", 22.0), ("two thousand and twenty six", 2026.0),
    ("abc", None), ("", None), ("不知道", None),
])
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("三十七度五", 37.5), ("37度5", 37.5), ("37.5", 37.5), ("三十八度", 38.0), ("37度半", 37.5),
    ("三十七点五度", 37.5), ("体温三十六度八", 36.8), ("５０度", 50.0), ("五十度", 50.0),
    ("38 degrees", 38.0), ("thirty seven point five", 37.5), ("it's 36.6", 36.6),
    ("삼십칠 점 오 도", 37.5), ("38.6도", 38.6),
    ("99.5F", 37.5), ("99.5 °F", 37.5), ("100.4 fahrenheit", 38.0), ("华氏99.5度", 37.5),
    ("99.5", 37.5),  # no unit, and no one has 99.5 °C: read as Fahrenheit
    ("abc", None), ("没有", None),
])
def test_parse_temperature(text: str, expected: float | None) -> None:
    assert parse_temperature(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("二月三号", date(2026, 2, 3)), ("2月3日", date(2026, 2, 3)), ("2026年2月3日", date(2026, 2, 3)),
    ("昨天", date(2026, 2, 9)), ("前天", date(2026, 2, 8)), ("大前天", date(2026, 2, 7)),
    ("今天", date(2026, 2, 10)), ("三天前", date(2026, 2, 7)), ("5号", date(2026, 2, 5)),
    ("十二月二十五号", date(2025, 12, 25)),  # no year: the most recent past one
    ("3 days ago", date(2026, 2, 7)), ("yesterday", date(2026, 2, 9)), ("today", TODAY),
    ("Feb 3", date(2026, 2, 3)), ("February 3rd", date(2026, 2, 3)), ("3 February", date(2026, 2, 3)),
    ("2026-02-03", date(2026, 2, 3)), ("02/03", date(2026, 2, 3)), ("12/28", date(2025, 12, 28)),
    ("어제", date(2026, 2, 9)), ("2월 3일", date(2026, 2, 3)), ("이월 삼일", date(2026, 2, 3)),
    ("삼 일 전", date(2026, 2, 7)),
    ("2月30日", None), ("abc", None), ("不知道", None),
])
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("有", "zh", "yes"), ("是", "zh", "yes"), ("是的", "zh", "yes"), ("对", "zh", "yes"),
    ("有一点咳嗽", "zh", "yes"), ("需要", "zh", "yes"),
    # agreement words are a yes only to "…, is that right?" (campaigns._yesno.AGREE); alone they are asked again
    ("嗯", "zh", None), ("好", "zh", None), ("收到", "zh", None), ("没问题", "zh", None),
    ("没有", "zh", "no"), ("无", "zh", "no"), ("不是", "zh", "no"), ("没", "zh", "no"),
    ("否", "zh", "no"), ("不需要", "zh", "no"), ("不对", "zh", "no"),
    ("不知道", "zh", "not_sure"), ("不确定", "zh", "not_sure"), ("说不清", "zh", "not_sure"),
    ("yes", "en", "yes"), ("Yeah", "en", "yes"), ("y", "en", "yes"), ("I do", "en", "yes"),
    ("no", "en", "no"), ("Nope", "en", "no"), ("I have no fever", "en", "no"), ("I don't", "en", "no"),
    ("not sure", "en", "not_sure"), ("I don't know", "en", "not_sure"), ("no idea", "en", "not_sure"),
    ("네", "ko", "yes"), ("예", "ko", "yes"), ("있어요", "ko", "yes"),
    ("아니요", "ko", "no"), ("없어요", "ko", "no"), ("모르겠어요", "ko", "not_sure"),
    ("abc", "en", None), ("", "zh", None), ("咳嗽", "zh", None),
])
def test_parse_yes_no(text: str, lang: str, expected: str | None) -> None:
    assert parse_yes_no(text, lang) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("G1234", "G1234"), ("G1234次", "G1234"), ("坐的是g1234次高铁", "G1234"), ("D123", "D123"),
    ("K45次", "K45"), ("CA1234", "CA1234"), ("flight MU5101", "MU5101"), ("3U8888", "3U8888"),
    ("粤B12345", "粤B12345"), ("京A·12345", "京A12345"), ("车牌是浙A 88888", "浙A88888"),
    ("开车来的", None), ("abc", None),
])
def test_parse_transport_no(text: str, expected: str | None) -> None:
    assert parse_transport_no(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("我没有发烧", "zh"), ("三十七度五", "zh"), ("I have a cough", "en"), ("네", "ko"),
    ("삼십칠 점 오 도", "ko"), ("37.5", None), ("", None), ("坐G1234来的", "zh"),
])
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected
