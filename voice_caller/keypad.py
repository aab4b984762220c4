"""Keypad (DTMF) answers: when the keys pressed so far make an answer.

For a question answered by one key (its type says so: yes/no: 1 yes, 2 no, 3 not sure; a choice: 1..n; a
confirmation: 1 yes, 2 no; the digits are the ``Expect``'s options)
the first key is the answer. For anything else (a number, a date...) keys are collected, ``*`` being the decimal
point (``37*5#`` is 37.5), until ``#`` or until no key came for a short while (the caller flushes then). ``*`` alone
asks to hear the question again. The text handed on is what the campaign engine reads with ``keypad=True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaigns import qtypes
from campaigns.expect import Expect

__all__ = ["KeypadCollector"]

_MAX_KEYS = 16


class KeypadCollector:
    """Keys of one question; ``press`` returns the answer text once it is complete.

    Whether one key answers is the question type's ``single_key`` (``campaigns.qtypes``); ``expect`` is the
    question's ``Expect`` (or its payload, or just the type's name).
    """

    def __init__(self, expect: Expect | Mapping[str, Any] | str | None) -> None:
        found = expect if isinstance(expect, (Expect, str)) or expect is None else Expect.from_payload(expect)
        kind = found.type if isinstance(found, Expect) else (found or "")
        self.single = qtypes.single_key(kind)
        self.keys = ""

    @property
    def pending(self) -> bool:
        """Keys are waiting for ``#`` or the inter-digit timeout."""
        return bool(self.keys)

    def press(self, key: str) -> str | None:
        if self.single:
            return None if key == "#" else key
        if key == "#":
            return self.flush()
        if key in "0123456789*" and len(self.keys) < _MAX_KEYS:
            self.keys += key
        return None

    def flush(self) -> str | None:
        """The keys collected so far as an answer (the inter-digit timeout passed), or None if there are none."""
        keys, self.keys = self.keys, ""
        return keys or None
