"""A question's inline keyboard: the options its question type offers for the ``Expect``, one button each.

A button's ``callback_data`` is ``q:<question key>:<keypad digit>`` (the key cut to ``KEY_MAX`` characters, so
it fits Telegram's 64 bytes); pressing it sends the digit with ``keypad=True``, as on the phone.
"""

from __future__ import annotations

from typing import Any

from campaigns import qtypes
from campaigns.expect import Expect, Option

__all__ = ["KEY_MAX", "pressed_option", "question_keyboard"]

KEY_MAX = 56  # callback_data is 1-64 bytes


def question_keyboard(expect: Expect | None) -> dict[str, Any] | None:
    """The ``inline_keyboard`` markup for ``expect``, or None when its type offers no options."""
    options = qtypes.offered(expect) if expect is not None else ()
    if expect is None or not options:
        return None
    key = expect.question[:KEY_MAX]
    buttons = [{"text": o.label, "callback_data": f"q:{key}:{o.keypad}"} for o in options]
    return {"inline_keyboard": [buttons] if len(buttons) <= 3 else [[b] for b in buttons]}


def pressed_option(expect: Expect, key: str, digit: str) -> Option | None:
    """The option a ``q:<key>:<digit>`` button of ``expect``'s keyboard stands for, or None (another question's)."""
    if expect.question[:KEY_MAX] != key:
        return None
    return next((o for o in qtypes.offered(expect) if o.keypad == digit), None)
