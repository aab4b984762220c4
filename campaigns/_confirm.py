"""The answer to "do you mean you want no more contact?" (or "…a person?"): consent to a step the resident cannot
undo in their next message is given only by a plain yes (or keypad 1)."""

from __future__ import annotations

import re

from campaigns.reading import fold

__all__ = ["read_confirmation"]

_TRAILING = re.compile(r"[\s啊呀吧的了哦呢嘛~!.。]+$")

#: The plain answers that confirm (or refuse) a consequential step: "您是说以后不要再联系您了吗？是的话请回复「是」。"
_CONFIRMING = {"yes": ("是", "是的", "对", "对的", "没错", "确定", "yes", "yes please", "yeah", "yep", "correct", "right",
                       "네", "예", "맞아요", "맞습니다", "맞아"),
               "no": ("不是", "不对", "不", "没有", "不用", "no", "nope", "not", "아니요", "아니오", "아뇨", "아니", "아니에요")}


def read_confirmation(text: str, *, keypad: bool = False) -> str | None:
    """"yes" / "no" to a question about an opt-out or a hand-over, or None: only a plain answer counts (agreement
    such as "好" or "嗯", or a hedge, is no consent to be silenced), keypad 1 / 2 on the phone."""
    if keypad:
        return {"1": "yes", "2": "no"}.get(text.strip().rstrip("#"))
    words = [_TRAILING.sub("", w) for w in re.split(r"[\s,，。.!！]+", fold(text)) if w]
    words = [w for w in words if w]
    for value in ("yes", "no"):
        if words and all(w in _CONFIRMING[value] for w in words):
            return value
    return None
