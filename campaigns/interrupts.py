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
        "leave me alone", "remove me", "remove my number", "take me off", "take my number off",
        "전화하지 마", "그만 전화", "연락하지 마", "연락하지 말아", "전화하지 말아", "다시는 하지 마", "수신 거부", "수신거부",
        "그만하세요", "以后别打", "以后不要打", "别再给我打电话", "不要再给我打电话", "别给我打电话了", "不要给我打电话了",
        "以后别联系我", "以后不要联系我", "别再联系我", "不要再联系我",
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
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", text)  # "别 再 打 了" typed with spaces


#: "现在别打电话，我在开会" is no opt-out for good; "不需要找网格员" asks for no one.
_NOT_FOR_GOOD = re.compile(r"现在|今天|这会|晚上再|等会|稍后|在开会|在开车|正在|\b(?:right now|now|today|later|driving|in a meeting)\b"
                           r"|지금|나중에|이따|운전 중|회의 중")
_NEGATED_HUMAN = re.compile(r"(?:不需要|不用|不要|没必要|不想)(?:找|跟|和)?|\b(?:no need (?:for|to)|don't need|do not need"
                            r"|don't want)\b|필요\s*없|안\s*해도")


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
            found = (re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", norm) if phrase.isascii()
                     else re.search(re.escape(phrase), norm))
            if not found:
                continue
            if kind == "opt_out" and _NOT_FOR_GOOD.search(norm):
                return None  # "not now, I'm driving": the classifier may still ask whether they mean for good
            if kind == "ask_human" and _NEGATED_HUMAN.search(norm[:found.start()]):
                return None
            return kind
    return None
