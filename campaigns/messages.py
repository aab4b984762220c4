"""Built-in texts the engine says: default reprompts, reasons, confirmations (zh, en, ko)."""

from __future__ import annotations

from typing import Any

from campaigns.questionnaire import UNITS, Question

__all__ = [
    "confirm_text", "goodbye_text", "reason_text", "render_value", "reprompt_text", "say_number",
    "skip_text",
]

_DEFAULT_REPROMPT = {
    "yes_no": {"zh": "请回答有或者没有。", "en": "Please answer yes or no.",
               "ko": "네 또는 아니요로 대답해 주세요."},
    "yes_no_unsure": {"zh": "请回答有、没有，或者不确定。", "en": "Please answer yes, no, or not sure.",
                      "ko": "네, 아니요, 또는 모르겠어요로 대답해 주세요."},
    "number": {"zh": "请说一个数字。", "en": "Please say a number.", "ko": "숫자로 말씀해 주세요."},
    "choice": {"zh": "请从这些里面选一个：{options}。", "en": "Please choose one of: {options}.",
               "ko": "다음 중 하나를 골라 주세요: {options}."},
    "date": {"zh": "请说一个日期，比如二月三号，或者昨天。",
             "en": "Please say a date, for example February third, or yesterday.",
             "ko": "날짜를 말씀해 주세요. 예를 들어 이월 삼일, 또는 어제."},
    "place": {"zh": "请再说一下地点。", "en": "Please say the place again.",
              "ko": "장소를 다시 말씀해 주세요."},
    "text": {"zh": "请再说一遍。", "en": "Please say that again.", "ko": "다시 말씀해 주세요."},
}
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
_YES_NO = {"zh": {"yes": "有", "no": "没有", "not_sure": "不确定"},
           "en": {"yes": "yes", "no": "no", "not_sure": "not sure"},
           "ko": {"yes": "네", "no": "아니요", "not_sure": "모르겠어요"}}
_SEP = {"zh": "、", "en": ", ", "ko": ", "}


def say_number(value: float) -> str:
    """37.0 → "37", 37.5 → "37.5"."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _unit(question: Question, lang: str) -> str:
    word = UNITS.get(question.unit or "count", {}).get(lang, "")
    return f" {word}" if word and lang != "zh" else word


def _options(question: Question, lang: str) -> str:
    return _SEP.get(lang, ", ").join(c.label[lang] for c in question.choices)


def reprompt_text(question: Question, lang: str) -> str:
    """The question's own reprompt, or the default for its type."""
    if lang in question.reprompt:
        return question.reprompt[lang]
    return _DEFAULT_REPROMPT[question.type][lang].format(options=_options(question, lang))


def reason_text(question: Question, reason: str, lang: str) -> str:
    """What to say after a Rejected answer: the allowed range, the options, or the reprompt."""
    if reason == "out_of_range" and question.min is not None and question.max is not None:
        return _RANGE[lang].format(min=say_number(question.min), max=say_number(question.max),
                                   unit=_unit(question, lang))
    if reason == "not_an_option" and question.type == "choice":
        return _DEFAULT_REPROMPT["choice"][lang].format(options=_options(question, lang))
    if reason == "not_an_option":
        return _DEFAULT_REPROMPT[question.type][lang]
    if reason == "question":  # the resident asked back: the question itself again
        return question.prompt[lang]
    if reason == "ambiguous":
        return f"{_AMBIGUOUS[lang]}{'' if lang == 'zh' else ' '}{reprompt_text(question, lang)}"
    return reprompt_text(question, lang)


def render_value(question: Question, value: Any, lang: str) -> str:
    """A stored value as the resident would say it back."""
    if question.type in ("yes_no", "yes_no_unsure"):
        return _YES_NO[lang].get(str(value), str(value))
    if question.type == "number":
        return f"{say_number(float(value))}{_unit(question, lang)}"
    if question.type == "choice":
        for choice in question.choices:
            if choice.key == value:
                return choice.label[lang]
    if question.type == "date" and isinstance(value, str) and len(value) == 10:
        month, day = int(value[5:7]), int(value[8:10])
        return {"zh": f"{month}月{day}日", "ko": f"{month}월 {day}일"}.get(lang, value)
    return str(value)


def confirm_text(question: Question, value: Any, lang: str) -> str:
    """"您说的是37.5摄氏度，对吗？" / "You said 37.5 degrees Celsius, is that right?"."""
    return _CONFIRM[lang].format(value=render_value(question, value, lang))


def skip_text(lang: str) -> str:
    """Said when a question is given up after too many tries."""
    return _SKIP[lang]


def goodbye_text(lang: str) -> str:
    """Said when the resident opts out."""
    return _GOODBYE[lang]
