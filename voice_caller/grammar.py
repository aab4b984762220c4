"""Per-question recogniser grammars, built from the dialogue's ``expect`` payload (``campaigns.expect.Expect``).

``grammar_for(expect)`` lists the phrases a resident is likely to say to the question now asked — which sets is the
question type's decision (``QuestionType.listen`` in ``campaigns.qtypes``), the words are made here: yes/no phrases
(the vocabulary of ``campaigns.normalize``, kept only where ``parse_yes_no`` reads them the same way, so chat and
voice agree), numbers in the question's range spoken the way people say them (三十七度五, 삼십칠 점 오,
thirty seven point five), the choices' labels and synonyms, the opt-out / "a person" / "say again" phrases of
``campaigns.interrupts``, and ``UNK``. Free answers (date, place, text) get ``None``: free speech.

Phrases are space-separated words. Which words a model knows differs per model (the Korean model knows 삼십칠
but not 삼십일), so numbers and Chinese phrases come in several segmentations; ``voice_caller.asr.Listener``
drops every phrase with a word outside the model's vocabulary before giving the rest to Vosk, and maps ``UNK``
to the model's own unknown-word symbol. Note that a Vosk grammar is a bigram language model over these phrases,
not a strict list: the listener checks the result against the phrases itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from campaigns import interrupts, normalize, qtypes
from campaigns.expect import Expect
from campaigns.normalize import detect_language, parse_yes_no

__all__ = ["UNK", "grammar_for", "number_words", "yes_no_phrases"]

UNK = "[unk]"
_MAX_VALUES = 400  # more values than this in a range: give numeral words instead of whole numbers
_INTERRUPT_KINDS = ("opt_out", "ask_human", "repeat")

# Whole spoken answers, beside the words normalize matches inside longer replies.
_SPOKEN: dict[str, dict[str, tuple[str, ...]]] = {
    "zh": {"yes": ("有", "有的", "是", "是的", "对", "对的", "嗯", "好", "好的", "可以", "没错"),
           "no": ("没有", "没", "没有的", "不是", "不对", "无", "不"),
           "not_sure": ("不知道", "不确定", "不清楚", "说不清", "不记得", "不好说")},
    "en": {"yes": ("yes", "yeah", "yep", "sure", "correct", "right", "okay", "yes i do", "yes i have"),
           "no": ("no", "nope", "never", "no i don't", "no i haven't", "not really"),
           "not_sure": ("not sure", "i'm not sure", "i don't know", "don't know", "no idea", "maybe")},
    "ko": {"yes": ("네", "예", "응", "있어요", "있습니다", "맞아요", "맞습니다", "그래요"),
           "no": ("아니요", "아니오", "아뇨", "아니", "없어요", "없습니다"),
           "not_sure": ("모르겠어요", "모르겠습니다", "잘 모르겠어요", "몰라요")},
}
#: Dialect answers chat readers understand but the recogniser must not be offered: with "아이오" (a dialect 아니오)
#: in the grammar, the Korean model hears espeak-ng's 아뇨 and even 있어요 as 아이오 (tests/voice/test_asr.py).
_NOT_LISTENED_FOR = frozenset({"아이오"})
_ZH_DIGITS = "零一二三四五六七八九"
_KO_DIGITS = ("영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
_EN_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
            "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_UNIT_WORDS: dict[str, dict[str, tuple[str, ...]]] = {"celsius": {"zh": ("度",), "en": ("degrees",), "ko": ("도",)},
               "people": {"zh": ("个人", "人"), "en": ("people",), "ko": ("명",)},
               "days": {"zh": ("天",), "en": ("days",), "ko": ("일",)},
               "years": {"zh": ("岁",), "en": ("years",), "ko": ("세", "살")}}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _in_language(phrase: str, language: str) -> bool:
    found = detect_language(phrase)
    return found == language


def _zh_forms(phrase: str) -> list[str]:
    """A Chinese phrase whole and character by character (models segment words differently)."""
    compact = phrase.replace(" ", "")
    return list(dict.fromkeys([phrase, compact, " ".join(compact)]))


def _forms(phrase: str, language: str) -> list[str]:
    return _zh_forms(phrase) if language == "zh" and _CJK.search(phrase) else [phrase.lower()]


def yes_no_phrases(language: str, *, unsure: bool = False) -> list[str]:
    """Yes / no (/ not sure) phrases in ``language``, each read back the same way by ``parse_yes_no``."""
    lexicon = (normalize.YES_WORDS, normalize.NO_WORDS, normalize.NOT_SURE_WORDS if unsure else ())
    wanted = {"yes", "no", "not_sure"} if unsure else {"yes", "no"}
    spoken = _SPOKEN.get(language, _SPOKEN["zh"])
    candidates = [p for kind in sorted(wanted) for p in spoken[kind]]
    candidates += [p for group in lexicon for p in group if len(p) > 1 or not p.isascii()]
    found: list[str] = []
    for phrase in dict.fromkeys(candidates):
        if phrase in _NOT_LISTENED_FOR or not _in_language(phrase, language) or \
                parse_yes_no(phrase, language) not in wanted:
            continue
        found.extend(_forms(phrase, language))
    return list(dict.fromkeys(found))


def _zh_int(n: int) -> str:
    if n < 10:
        return _ZH_DIGITS[n]
    if n < 20:
        return "十" + (_ZH_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _ZH_DIGITS[n // 10] + "十" + (_ZH_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        tail = "" if rest == 0 else ("零" + _ZH_DIGITS[rest] if rest < 10 else
                                     (_ZH_DIGITS[rest // 10] + "十" + (_ZH_DIGITS[rest % 10] if rest % 10 else "")))
        return _ZH_DIGITS[n // 100] + "百" + tail
    return " ".join(_ZH_DIGITS[int(d)] for d in str(n))


def _ko_int(n: int, joined: bool) -> str:
    if n == 0:
        return "영"
    parts: list[str] = []
    for value, unit in ((1000, "천"), (100, "백"), (10, "십")):
        digit, n = divmod(n, value)
        if digit:
            parts.append(("" if digit == 1 else _KO_DIGITS[digit]) + unit)
    if n:
        parts.append(_KO_DIGITS[n])
    return "".join(parts) if joined else " ".join(parts)


def _en_int(n: int) -> str:
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        return _EN_TENS[n // 10] + ("" if n % 10 == 0 else " " + _EN_ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _EN_ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + _en_int(rest))
    return " ".join(_EN_ONES[int(d)] for d in str(n))


def number_words(value: float, language: str) -> list[str]:
    """The ways ``value`` (one decimal at most) is said in ``language``: 37.5 → 三十七点五, 삼십칠 점 오..."""
    whole = int(value)
    tenth = round((value - whole) * 10)
    if language == "zh":
        base = _zh_int(whole)
        if not tenth:
            return [base]
        return [f"{base}点{_ZH_DIGITS[tenth]}", f"{base}度{_ZH_DIGITS[tenth]}"]
    if language == "ko":
        bases = list(dict.fromkeys([_ko_int(whole, True), _ko_int(whole, False)]))
        return [b if not tenth else f"{b} 점 {_KO_DIGITS[tenth]}" for b in bases]
    base = _en_int(whole)
    return [base if not tenth else f"{base} point {_EN_ONES[tenth]}"]


def _numeral_vocabulary(language: str) -> list[str]:
    if language == "zh":
        return [*_ZH_DIGITS, "两", "十", "百", "千", "万", "点"]
    if language == "ko":
        return [*_KO_DIGITS, "십", "백", "천", "만", "점"]
    return [*_EN_ONES, *(t for t in _EN_TENS if t), "hundred", "thousand", "point", "oh"]


def _number_phrases(language: str, low: float | None, high: float | None, unit: str | None) -> list[str]:
    units: tuple[str, ...] = _UNIT_WORDS.get(unit or "", {}).get(language, ())
    decimals = unit == "celsius"
    if low is None or high is None or (high - low) * (10 if decimals else 1) > _MAX_VALUES or high < low:
        return _numeral_vocabulary(language) + list(units)
    step = 0.1 if decimals else 1.0
    count = round((high - low) / step)
    values = [round(low + i * step, 1) for i in range(count + 1)]
    phrases: list[str] = []
    for value in values:
        for said in number_words(value, language):
            spoken_unit = language == "zh" and "度" in said  # 三十七度五 already says its unit
            variants = [said] + ([] if spoken_unit else [f"{said} {u}" for u in units])
            if language == "zh" and units and not spoken_unit and "点" not in said:
                variants.append(f"{said}{units[0]}")
            for variant in variants:
                phrases.extend(_forms(variant, language))
    return phrases


def _interrupt_phrases(language: str) -> list[str]:
    # the keyword table of campaigns.interrupts, so a spoken opt-out is the same words as a typed one
    table: Mapping[str, Iterable[str]] = getattr(interrupts, "_PHRASES", {})
    found: list[str] = []
    for kind in _INTERRUPT_KINDS:
        for phrase in table.get(kind, ()):
            if _in_language(phrase, language) and interrupts.detect_interrupt(phrase, language) == kind:
                found.extend(_forms(phrase, language))
    return found


@dataclass(frozen=True)
class _Words:
    """The phrase sets of one language, for the question types to pick from (``campaigns.qtypes.Words``)."""

    language: str

    def yes_no(self, *, unsure: bool) -> list[str]:
        return yes_no_phrases(self.language, unsure=unsure)

    def numbers(self, low: float | None, high: float | None, unit: str | None) -> list[str]:
        return _number_phrases(self.language, None if low is None else float(low),
                               None if high is None else float(high), unit)

    def said(self, phrases: Iterable[str]) -> list[str]:
        return [f for phrase in phrases if phrase.strip() for f in _forms(phrase.strip(), self.language)]


def grammar_for(expect: Expect | Mapping[str, Any] | None) -> list[str] | None:
    """The phrases to listen for after the question described by ``expect`` (an ``Expect`` or its payload): what
    its question type listens for, the interruptions and ``UNK``; None means free speech."""
    found = expect if isinstance(expect, Expect) else Expect.from_payload(expect)
    if found is None:
        return None
    language = found.language or "zh"
    qtype = qtypes.get(found.type)
    if language not in _SPOKEN or qtype is None:
        return None
    phrases = qtype.listen(found, _Words(language))
    if phrases is None:
        return None
    phrases += _interrupt_phrases(language)
    phrases.append(UNK)
    return list(dict.fromkeys(p for p in phrases if p.strip()))
