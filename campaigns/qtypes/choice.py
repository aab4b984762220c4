"""``choice``: one of the question's choices, by number, label or synonym; keypad 1..n."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from campaigns.answers import HEDGED, Accepted, NluHints, Rejected, Result
from campaigns.qtypes import register
from campaigns.qtypes.base import Option, QuestionType, Words
from campaigns.questionnaire import Question, Questionnaire
from campaigns.reading import fold, has_hedge, is_question

__all__ = ["Choice"]

_SEP = {"zh": "、", "en": ", ", "ko": ", "}
_NEGATORS = ("不", "没", "沒", "未", "无", "無", "别", "別", "안 ", "못 ", "not ", "no ", "n't ",
              "never ")
#: A choice taken back, still to come, half one and half another, or not sure: asked again.
_CHOICE_UNCLEAR = re.compile(
    r"\b(?:no wait|wait|actually|i mean|tomorrow|will (?:go|be|move|start|arrive|get)|i'll (?:go|be|move)|going to|gonna"
    r"|not sure|or)\b|\?|其实|不对|明天|将要|要去|还没|一半|"
    r"不知道|不确定|或者|还是|真的假的|예정|내일|아니면|이랑|갔다가|있다가|반은|모르겠|볼게요|할게요|나중에"
)
_CHOICE_NEGATION = re.compile(r"不需要|不用|不要|没必要|\b(?:no need|don't need|do not need|not needed|don't want)\b"
                              r"|필요\s*없|안\s*해도|싫어요")


class Choice(QuestionType):
    name = "choice"
    single_key = True
    answers_before_interrupts = True

    def symbol_answers(self, question: Question, raw: str) -> bool:
        """An emoji the definition lists as a synonym ("👍" for received)."""
        return bool(raw.strip()) and any(raw.strip() == w for c in question.choices
                                         for ws in c.synonyms.values() for w in ws)

    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        return _choice(question, raw, keypad)

    def reprompt(self, question: Question, lang: str) -> str:
        options = _SEP.get(lang, ", ").join(c.label[lang] for c in question.choices)
        return self.reprompt_text(lang, options=options)

    def render(self, question: Question, value: Any, lang: str) -> str:
        return next((c.label[lang] for c in question.choices if c.key == value), str(value))

    def options(self, question: Question, lang: str) -> list[Option]:
        return [Option(c.key, c.label[lang], str(i)) for i, c in enumerate(question.choices, 1)]

    def confirmable(self, question: Question, limit: int) -> list[Any]:
        return [c.key for c in question.choices]

    def listen(self, expect: Any, words: Words) -> list[str] | None:
        """The labels offered, and the synonyms of the choices in the questionnaire's definition."""
        synonyms: list[str] = []
        q = _questionnaires().get(expect.questionnaire)
        if q is not None and expect.question in q.keys:
            for choice in q.question(expect.question).choices:
                synonyms.extend(choice.synonyms.get(words.language, ()))
        return words.said(p.strip() for p in (*(o.label for o in expect.options), *synonyms) if p.strip())


@functools.lru_cache(maxsize=1)
def _questionnaires() -> Mapping[str, Questionnaire]:
    from campaigns import QUESTIONNAIRE_DIR, load_directory

    return load_directory(QUESTIONNAIRE_DIR)


def _spans(raw: str, word: str) -> list[tuple[int, int]]:
    """Where ``word`` is said and not negated: whole words for Latin, anywhere for CJK / Hangul."""
    text = fold(raw)
    word = fold(word)
    if not word:
        return []
    pattern = rf"(?<![a-z]){re.escape(word)}(?![a-z])" if word.isascii() else re.escape(word)
    found = []
    for m in re.finditer(pattern, text):
        before = text[: m.start()]
        if not any(before.endswith(n) or before.endswith(n.strip()) for n in _NEGATORS):
            found.append((m.start(), m.end()))
    return found


def _choice(question: Question, raw: str, keypad: bool) -> Result:
    """A choice by its number, label or synonym; two different choices said, or a question back: ask again."""
    digits = raw.strip().rstrip("#")
    if digits.isascii() and digits.isdecimal() and len(digits) <= 2:
        index = int(digits) - 1
        if 0 <= index < len(question.choices):
            return Accepted(question.choices[index].key, raw)
        return Rejected("not_an_option")
    if keypad:
        return Rejected("not_an_option")
    mentions: list[tuple[int, int, str]] = []
    for choice in question.choices:
        words = [*choice.label.values(), *(w for ws in choice.synonyms.values() for w in ws)]
        mentions += [(start, end, choice.key) for w in words for start, end in _spans(raw, w)]
    # a mention inside a longer one of another choice does not count ("没有隔离" holds "隔离"), nor one that
    # starts inside an earlier one ("열차로": 열차 is the train, not 차로 the car)
    kept = {key for start, end, key in mentions
            if not any(k2 != key and ((s2 <= start and end <= e2 and (e2 - s2) > (end - start))
                                      or s2 < start < e2 < end)
                       for s2, e2, k2 in mentions)}
    if not kept:
        return Rejected("question" if is_question(fold(raw)) else "not_an_option")
    if _CHOICE_UNCLEAR.search(fold(raw)):
        return Rejected("ambiguous")
    rest = fold(raw)
    for start, end, key in sorted(mentions, key=lambda m: m[0], reverse=True):
        if key in kept:
            rest = rest[:start] + " " + rest[end:]
    if _CHOICE_NEGATION.search(rest):
        return Rejected("ambiguous")  # "담당자 필요 없어요", "不需要找网格员": the option said, and taken back
    if len(kept) > 1:
        return Rejected("ambiguous")
    if is_question(fold(raw)):
        return Rejected("question")
    return Accepted(kept.pop(), raw, HEDGED if has_hedge(fold(raw)) else 1.0)


register(Choice())
