"""The phrase catalogue: every phrase in zh, en and ko with the same fields, checked at load with the line of the
fault; fields filled, no gap where a field is empty; one fallback rule for a language we lack."""

from __future__ import annotations

from pathlib import Path
from string import Formatter

import pytest

from campaigns.errors import DefinitionError
from campaigns.phrases import (
    LANGUAGES,
    all_phrases,
    both,
    language_of,
    load_phrases,
    phrase,
    spoken_phrases,
)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def test_every_phrase_has_chinese_english_and_korean_with_the_same_fields() -> None:
    phrases = all_phrases()
    assert {"greeting", "telegram.ask_bind", "wechat.welcome", "wecom.notice_footer"} <= set(phrases)
    for key, texts in phrases.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key
        assert fields(texts["en"]) == fields(texts["zh"]) == fields(texts["ko"]), key


def test_the_voice_caller_gets_the_spoken_phrases_not_the_chat_channels_wording() -> None:
    spoken = spoken_phrases()
    assert "voice_greeting" in spoken and not any("." in key for key in spoken)


def test_the_engine_texts_units_and_every_built_in_types_reprompt_are_in_the_catalogue() -> None:
    from campaigns import qtypes
    from campaigns.questionnaire import UNITS

    phrases = all_phrases()
    assert {f"engine.{k}" for k in ("out_of_range", "confirm", "ambiguous", "skip", "goodbye")} <= set(phrases)
    assert {f"units.{u}" for u in UNITS if u != "count"} <= set(phrases)
    for name in qtypes.names():
        assert not qtypes.require(name).reprompts, name  # wording in the catalogue, not in code
        assert f"qtypes.{name}.reprompt" in phrases, name
    assert not any(key.startswith(("engine.", "units.", "qtypes.")) for key in spoken_phrases())  # said filled in


def test_filled_fields_are_kept_as_given() -> None:
    assert phrase("engine.confirm", "en", value="Beijing ,  Chaoyang") == "You said Beijing ,  Chaoyang, is that right?"


def test_fields_are_filled_and_empty_ones_leave_no_gap() -> None:
    assert phrase("handoff", "zh", grid_worker="王秀英") == "好的，已通知网格员王秀英，会尽快联系您。"
    assert phrase("handoff", "en") == "All right, your grid worker has been told and will contact you soon."
    assert "  " not in phrase("opt_out_confirmed", "en")
    assert phrase("telegram.too_long", "ko", limit=500) == "메시지가 너무 깁니다. 500자 이내로 답해 주세요."


@pytest.mark.parametrize(("tag", "ours"), [("zh", "zh"), ("zh-CN", "zh"), ("zh_Hant_TW", "zh"), ("EN-gb", "en"),
                                           ("ko-KR", "ko"), ("ko", "ko"), ("fr", "zh"), ("", "zh"), (None, "zh"),
                                           ("kok", "zh")])
def test_one_fallback_rule_for_a_language_tag(tag: str | None, ours: str) -> None:
    assert language_of(tag) == ours


def test_an_unknown_language_falls_back_to_chinese() -> None:
    assert phrase("goodbye", "fr") == phrase("goodbye", "zh")
    assert phrase("wechat.welcome_back", "ko-KR", name="김") == "다시 오신 것을 환영합니다, 김님."


def test_both_is_chinese_then_english() -> None:
    assert both("telegram.received_button", sep=" / ") == "收到 / Received"
    assert both("wechat.welcome_back", name="Li") == "欢迎回来，Li。\nWelcome back, Li."


# ---- the load check --------------------------------------------------------------------------------------------
GOOD = """\
hello:
  zh: "您好，{name}。"
  en: "Hello, {name}."
  ko: "안녕하세요, {name}님."
telegram:
  bye:
    zh: "再见。"
    en: "Bye."
    ko: "안녕히 계세요."
"""


def load(tmp_path: Path, text: str) -> dict[str, dict[str, str]]:
    path = tmp_path / "phrases.yml"
    path.write_text(text, encoding="utf-8")
    return load_phrases(path)


def test_a_good_catalogue_loads_with_dotted_keys_for_namespaces(tmp_path: Path) -> None:
    assert set(load(tmp_path, GOOD)) == {"hello", "telegram.bye"}


@pytest.mark.parametrize(("text", "line", "words"), [
    (GOOD.replace('  ko: "안녕하세요, {name}님."\n', ""), 1, ["'hello'", "no 'ko'"]),
    (GOOD.replace('    en: "Bye."\n', ""), 6, ["'telegram.bye'", "no 'en'"]),
    (GOOD.replace('"안녕하세요, {name}님."', '"안녕하세요."'), 4, ["'hello'", "(ko)", "{name}"]),
    (GOOD.replace('"Hello, {name}."', '"Hello, {who}."'), 3, ["'hello'", "(en)", "{who}"]),
    (GOOD.replace('    ko: "안녕히 계세요."', '    ko: "안녕히 계세요."\n    fr: "Au revoir."'), 10,
     ["'telegram.bye'", "'fr'"]),
    (GOOD.replace('  en: "Hello, {name}."', '  en: ""'), 3, ["'en'", "empty"]),
    (GOOD + "wechat:\n  welcome: just a text\n", 11, ["'wechat.welcome'", "mapping"]),
], ids=["missing-language", "missing-language-in-namespace", "field-missing", "field-renamed", "unknown-language",
        "empty-text", "not-a-mapping"])
def test_the_load_check_names_the_phrase_and_the_line(tmp_path: Path, text: str, line: int,
                                                       words: list[str]) -> None:
    with pytest.raises(DefinitionError) as caught:
        load(tmp_path, text)
    assert caught.value.line == line, str(caught.value)
    assert all(word in caught.value.reason for word in words), str(caught.value)
