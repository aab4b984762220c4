"""Keyword detection of interruptions, for runs without an NLU (keypad, plain voice)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["INTERRUPTS", "detect_interrupt"]

INTERRUPTS = ("opt_out", "ask_human", "repeat", "help")

_PHRASES: dict[str, tuple[str, ...]] = {
    "opt_out": (
        "别再打", "别打了", "不要再打", "不要打了", "不要再发", "别再发", "别发了", "退订", "取消订阅",
        "不想参加", "不想回答了", "拉黑", "别烦我", "不要再联系", "别再联系",
        "stop calling", "stop texting", "stop messaging", "stop contacting", "unsubscribe",
        "opt out", "don't call", "do not call", "don't contact", "do not contact",
        "leave me alone", "remove me",
        "전화하지 마", "그만 전화", "연락하지 마", "연락하지 말아", "전화하지 말아", "다시는 하지 마", "수신 거부", "수신거부",
        "그만하세요", "别打电话", "不要打电话", "别给我打", "不要给我打", "别再给我打", "以后别打", "别联系我", "不要联系我",
    ),
    "ask_human": (
        "转人工", "人工服务", "人工客服", "找网格员", "跟网格员", "和网格员", "找真人", "真人",
        "找工作人员", "找个人", "talk to a person", "talk to someone", "real person", "human",
        "speak to someone", "grid worker", "operator", "상담원", "사람과", "담당자",
    ),
    "repeat": (
        "再说一遍", "再说一次", "重复一下", "重复一遍", "没听清", "没听见", "再讲一遍", "请再说",
        "say that again", "say again", "repeat", "pardon", "come again", "didn't catch",
        "다시 말씀", "다시 한 번", "다시 한번", "뭐라고요", "못 들었",
    ),
    "help": (
        "帮助", "怎么回答", "什么意思", "听不懂", "不明白", "help", "what do you mean",
        "how do i answer", "i don't understand", "도움말", "도와주세요", "무슨 뜻", "이해가 안",
    ),
}
_EXACT = {"stop": "opt_out", "停": "opt_out", "what": "repeat", "what?": "repeat", "啊？": "repeat",
          "什么？": "repeat", "什么": "repeat", "뭐요": "repeat", "네?": "repeat"}


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold().replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


def detect_interrupt(text: str, lang: str | None = None) -> str | None:
    """"opt_out", "ask_human", "repeat", "help" or None; opt-out wins over the rest.

    ``lang`` is accepted for symmetry with the NLU path; phrases of every language are tried,
    because residents mix languages.
    """
    norm = _norm(text)
    if not norm:
        return None
    if norm in _EXACT:
        return _EXACT[norm]
    for kind in INTERRUPTS:
        for phrase in _PHRASES[kind]:
            if phrase.isascii():
                if re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", norm):
                    return kind
            elif phrase in norm:
                return kind
    return None
