"""One WeChat text from a turn's replies: WeChat's passive reply carries one message and OA text has no buttons.

Texts are joined; the question's options (the ``Expect`` of the ``expect`` reply, as its question type offers them)
or the reply's buttons become numbered choices ("1 是 / 2 否"); a hand-over adds the grid worker's name and phone. ``Choices`` remembers what each number
means, so a resident can answer with the number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from campaigns import qtypes
from campaigns.expect import Expect
from campaigns.phrases import both, phrase
from gridreach.dialogue import Reply

__all__ = ["Choices", "Composed", "compose"]


@dataclass(frozen=True)
class Choices:
    """What the numbers in the last message mean: keypad digits of the question, or button payloads."""

    keypad: frozenset[str] = frozenset()  # send the digit itself, with metadata keypad=True
    payloads: dict[str, str] = field(default_factory=dict)  # digit -> button payload to send instead

    def resolve(self, text: str) -> tuple[str, bool] | None:
        """``(text to send, is keypad)`` for a bare number the last message offered, else None."""
        digit = text.strip()
        if digit in self.keypad:
            return digit, True
        if digit in self.payloads:
            return self.payloads[digit], False
        return None


@dataclass(frozen=True)
class Composed:
    text: str
    expect: Expect | None
    choices: Choices | None
    language: str | None


def compose(replies: Sequence[Reply]) -> Composed:
    """Join a turn's replies into one text; the last ``expect`` decides the numbered options."""
    lines: list[str] = []
    expect: Expect | None = None
    payloads: dict[str, str] = {}
    for reply in replies:
        custom = reply.custom or {}
        if isinstance(custom.get("expect"), dict):
            expect = Expect.from_payload(custom["expect"])
            continue
        if reply.text:
            lines.append(reply.text)
        handoff = custom.get("handoff")
        if isinstance(handoff, dict) and handoff.get("phone"):
            lines.append(_handoff(_language(expect, replies), name=handoff.get("name", ""), phone=handoff["phone"]))
        for button in reply.buttons:
            if button.get("title") and button.get("payload"):
                number = str(len(payloads) + 1)
                payloads[number] = str(button["payload"])
                lines.append(f"{number} {button['title']}")
    language = _language(expect, replies)
    choices: Choices | None = None
    options = qtypes.offered(expect)
    if options:
        lines.append(" / ".join(f"{o.keypad} {o.label}" for o in options) + " " + phrase("wechat.choose", language))
        choices = Choices(keypad=frozenset(o.keypad for o in options))
    elif payloads:
        choices = Choices(payloads=payloads)
    return Composed("\n".join(lines), expect, choices, language)


def _handoff(language: str | None, **values: Any) -> str:
    """The grid worker's name and phone; in Chinese and English while the language is not known."""
    return both("wechat.handoff", **values) if language is None else phrase("wechat.handoff", language, **values)


def _language(expect: Expect | None, replies: Sequence[Reply]) -> str | None:
    if expect is not None and expect.language:
        return expect.language
    for reply in replies:
        found = Expect.from_payload((reply.custom or {}).get("expect"))
        if found is not None and found.language:
            return found.language
    return None
