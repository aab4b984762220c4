"""Decide one answer to one question, whether typed, spoken or keyed (DTMF)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from campaigns import normalize
from campaigns.questionnaire import Question

__all__ = ["REASONS", "Accepted", "NluHints", "Rejected", "Result", "interpret"]

REASONS = ("unintelligible", "out_of_range", "not_an_option", "empty")
_INTENT_VALUES = {"affirm": "yes", "deny": "no", "not_sure": "not_sure", "dont_know": "not_sure"}
_KEYPAD_YES_NO = {"1": "yes", "2": "no", "3": "not_sure"}
_KEYPAD_NUMBER = re.compile(r"^(\d+)(?:\*(\d+))?#?$")
_PUNCT = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NluHints:
    """What an NLU (Rasa) made of the text: intent, its confidence, entities."""

    intent: str | None = None
    confidence: float = 0.0
    entities: Sequence[Mapping[str, Any]] = field(default_factory=tuple)

    def entity(self, *names: str) -> Any:
        """The value of the first entity named one of ``names`` (in that order), or None."""
        for name in names:
            for ent in self.entities:
                if ent.get("entity") == name and ent.get("value") not in (None, ""):
                    return ent["value"]
        return None


@dataclass(frozen=True)
class Accepted:
    """A valid answer: the value to store, the raw input, how sure we are of it."""

    value: Any
    raw: str
    confidence: float = 1.0


@dataclass(frozen=True)
class Rejected:
    """An answer that cannot be stored; ``reason`` is one of REASONS."""

    reason: str


Result = Accepted | Rejected


def _clean(text: str) -> str:
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return _PUNCT.sub("", text)[:500]


def interpret(question: Question, text: str, language: str, hints: NluHints | None = None,
              today: date | None = None, *, keypad: bool = False) -> Result:
    """Read ``text`` as an answer to ``question`` (same rules for chat, speech and keypad)."""
    raw = text or ""
    if not _clean(raw):
        return Rejected("empty")
    hints = hints or NluHints()
    key = raw.strip()
    if question.type in ("yes_no", "yes_no_unsure"):
        return _yes_no(question, raw, language, hints, keypad)
    if question.type == "number":
        return _number(question, raw, hints, keypad)
    if question.type == "choice":
        return _choice(question, raw, keypad)
    if question.type == "date":
        found = normalize.parse_date(raw, today or date.today())
        if found is None and hints.entity("date"):
            found = normalize.parse_date(str(hints.entity("date")), today or date.today())
        return Accepted(found.isoformat(), raw) if found else Rejected("unintelligible")
    value = _strip_place_framing(_clean(key)) if question.type == "place" else _clean(key)
    if not any(ch.isalnum() for ch in value):
        return Rejected("unintelligible")
    return Accepted(value, raw)


_PLACE_BEFORE = re.compile(
    r"^(?:我|我们)?(?:是)?(?:从|来自|去了|去过|到了|到过|在|住在|住)\s*"
    r"|^(?:i|we)?\s*(?:came|come|am|'m|was|went|have been|travelled|traveled|stay(?:ed|ing)?|live)?\s*"
    r"(?:back\s+)?(?:from|to|in|at)\s+",
    re.IGNORECASE,
)
_PLACE_AFTER = re.compile(r"(?:回来的|回来|过来的|过来|来的|来|去的|的)$")


def _strip_place_framing(text: str) -> str:
    """"我从武汉来的" -> "武汉", "I came back from Beijing" -> "Beijing"; an address stays whole.

    The whole answer is the value (an address must not be cut to a district); only the words that frame a
    place in speech are taken off, and never so much that nothing is left.
    """
    inner = _PLACE_AFTER.sub("", _PLACE_BEFORE.sub("", text, count=1)).strip()
    return inner if any(ch.isalnum() for ch in inner) else text


def _yes_no(question: Question, raw: str, language: str, hints: NluHints, keypad: bool) -> Result:
    confidence = 1.0
    value = _KEYPAD_YES_NO.get(raw.strip().rstrip("#")) if keypad else normalize.parse_yes_no(raw, language)
    if value is None and not keypad and hints.intent in _INTENT_VALUES:
        value, confidence = _INTENT_VALUES[hints.intent], hints.confidence
    if value is None:
        return Rejected("unintelligible")
    if value == "not_sure" and question.type == "yes_no":
        return Rejected("not_an_option")
    return Accepted(value, raw, confidence)


def _number(question: Question, raw: str, hints: NluHints, keypad: bool) -> Result:
    value: float | None
    if keypad:
        m = _KEYPAD_NUMBER.match(raw.strip())
        value = float(f"{m[1]}.{m[2] or 0}") if m else None
        if m and m[2] is None and value is not None:
            value = _implied_decimal(question, value)
    else:
        parse = normalize.parse_temperature if question.unit == "celsius" else normalize.parse_number
        value = parse(raw)
        if value is None:
            names = ("temperature", "number") if question.unit == "celsius" else ("number",)
            hinted = hints.entity(*names)
            value = parse(str(hinted)) if hinted is not None else None
    if value is None:
        return Rejected("unintelligible")
    value = _round(value, question.decimals)
    if question.min is not None and value < question.min:
        return Rejected("out_of_range")
    if question.max is not None and value > question.max:
        return Rejected("out_of_range")
    return Accepted(float(value), raw)


def _implied_decimal(question: Question, value: float) -> float:
    """Keypad "375#" for a temperature: 375 is out of range, 37.5 is in it — the way phone menus take it."""
    def fits(v: float) -> bool:
        return (question.min is None or v >= question.min) and (question.max is None or v <= question.max)

    if question.decimals >= 1 and not fits(value) and fits(value / 10):
        return value / 10
    return value


def _round(value: float, decimals: int) -> float:
    """Half-up, on the decimal digits as said (36.55 → 36.6, not float's 36.5)."""
    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def _fold(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


_NEGATORS = ("不", "没", "沒", "未", "无", "無", "别", "別", "안 ", "못 ", "not ", "no ", "n't ",
              "never ")


def _mentions(raw: str, word: str) -> bool:
    """Whole words for Latin, anywhere for CJK / Hangul; "没收到" / "not received" do not count."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", raw).casefold())
    word = _SPACES.sub(" ", unicodedata.normalize("NFKC", word).casefold()).strip()
    if not word:
        return False
    pattern = rf"(?<![a-z]){re.escape(word)}(?![a-z])" if word.isascii() else re.escape(word)
    for m in re.finditer(pattern, text):
        before = text[: m.start()]
        if not any(before.endswith(n) or before.endswith(n.strip()) for n in _NEGATORS):
            return True
    return False


def _choice(question: Question, raw: str, keypad: bool) -> Result:
    digits = raw.strip().rstrip("#")
    if digits.isdigit() and len(digits) <= 2:
        index = int(digits) - 1
        if 0 <= index < len(question.choices):
            return Accepted(question.choices[index].key, raw)
        return Rejected("not_an_option")
    if keypad:
        return Rejected("not_an_option")
    best: tuple[int, str] | None = None
    tied = False
    for choice in question.choices:
        words = [*choice.label.values(), *(w for ws in choice.synonyms.values() for w in ws)]
        length = max((len(_fold(w)) for w in words if _mentions(raw, w)), default=0)
        if not length:
            continue
        if best is None or length > best[0]:
            best, tied = (length, choice.key), False
        elif length == best[0] and best[1] != choice.key:
            tied = True
    if best is None or tied:
        return Rejected("not_an_option")
    return Accepted(best[1], raw)
