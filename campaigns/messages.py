"""Built-in texts the engine says: reprompts, reasons, confirmations (zh, en, ko); each type's own default reprompt
and way of saying a value back are its module's (``campaigns.qtypes``)."""

from __future__ import annotations

from typing import Any

from campaigns import qtypes
from campaigns.questionnaire import UNITS, Question

__all__ = [
    "confirm_text", "goodbye_text", "reason_text", "render_value", "reprompt_text", "say_number",
    "skip_text", "unit_text",
]

_RANGE = {"zh": "请说一个{min}到{max}{unit}之间的数。", "en": "Please say a number between {min} and {max}{unit}.",
          "ko": "{min}에서 {max}{unit} 사이의 숫자로 말씀해 주세요."}
_CONFIRM = {"zh": "您说的是{value}，对吗？", "en": "You said {value}, is that right?",
            "ko": "{value}, 맞습니까?"}
_AMBIGUOUS = {"zh": "我不能确定您的意思，请只回答一个。", "en": "I couldn't be sure which you meant; please give just one answer.",
              "ko": "어느 쪽인지 확실하지 않습니다. 하나만 말씀해 주세요."}
_SKIP = {"zh": "没关系，我们继续下一个问题。", "en": "That's all right, let's go on to the next question.",
         "ko": "괜찮습니다. 다음 질문으로 넘어가겠습니다."}
_GOODBYE = {"zh": "好的，我们不会再就此打扰您。祝您健康。",
            "en": "All right, we will not contact you about this again. Take care.",
            "ko": "알겠습니다. 더 이상 연락드리지 않겠습니다. 건강하세요."}


def say_number(value: float) -> str:
    """37.0 → "37", 37.5 → "37.5"."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def unit_text(question: Question, lang: str) -> str:
    """The unit of a number question as said after the number (" degrees Celsius", "度")."""
    word = UNITS.get(question.unit or "count", {}).get(lang, "")
    return f" {word}" if word and lang != "zh" else word


def reprompt_text(question: Question, lang: str) -> str:
    """The question's own reprompt, or the default for its type."""
    if lang in question.reprompt:
        return question.reprompt[lang]
    return qtypes.require(question.type).reprompt(question, lang)


def reason_text(question: Question, reason: str, lang: str) -> str:
    """What to say after a Rejected answer: the allowed range, the options, or the reprompt."""
    if reason == "out_of_range" and question.min is not None and question.max is not None:
        return _RANGE[lang].format(min=say_number(question.min), max=say_number(question.max),
                                   unit=unit_text(question, lang))
    if reason == "not_an_option":  # the type's own reprompt (with the options), not the question's
        return qtypes.require(question.type).reprompt(question, lang)
    if reason == "question":  # the resident asked back: the question itself again
        return question.prompt[lang]
    if reason == "ambiguous":
        return f"{_AMBIGUOUS[lang]}{'' if lang == 'zh' else ' '}{reprompt_text(question, lang)}"
    return reprompt_text(question, lang)


def render_value(question: Question, value: Any, lang: str) -> str:
    """A stored value as the resident would say it back."""
    return qtypes.require(question.type).render(question, value, lang)


def confirm_text(question: Question, value: Any, lang: str) -> str:
    """"您说的是37.5摄氏度，对吗？" / "You said 37.5 degrees Celsius, is that right?"."""
    return _CONFIRM[lang].format(value=render_value(question, value, lang))


def skip_text(lang: str) -> str:
    """Said when a question is given up after too many tries."""
    return _SKIP[lang]


def goodbye_text(lang: str) -> str:
    """Said when the resident opts out."""
    return _GOODBYE[lang]
