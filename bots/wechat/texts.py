"""The Official Account's own fixed texts (binding, refusals, receipts), in Chinese and English.

Residents not yet bound get both languages; bound residents get their own.
"""

from __future__ import annotations

__all__ = ["say"]

_TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "zh": "欢迎关注社区网格服务号。请向您的网格员要一个一次性绑定码（8位数字），然后发送您登记的手机号和绑定码，"
        "例如：13800138000 12345678",
        "en": "Welcome to your community grid's account. Ask your grid worker for a one-time code (8 digits), then send "
        "the phone number you registered and the code, e.g. 13800138000 12345678",
    },
    "welcome_back": {"zh": "欢迎回来，{name}。", "en": "Welcome back, {name}."},
    "bind_first": {
        "zh": "请先绑定：发送您登记的手机号和网格员给您的一次性绑定码（8位数字），例如：13800138000 12345678",
        "en": "Please link your account first: send your registered phone number and the one-time code (8 digits) "
        "from your grid worker, e.g. 13800138000 12345678",
    },
    "bound": {
        "zh": "绑定成功：{name}（{phone}）。有排查时点击菜单“健康排查”即可回答。",
        "en": "Linked: {name} ({phone}). When there is a screening, tap the menu to answer.",
    },
    "bad_phone": {"zh": "手机号格式不对，请检查后再发一次。", "en": "That phone number does not look right."},
    "not_valid": {
        "zh": "手机号或绑定码不对，或者绑定码已用过、已过期。请核对后再发，或向网格员要一个新的一次性绑定码。",
        "en": "The phone number or the code is not right, or the code was used or has expired. Please check and "
        "send them again, or ask your grid worker for a new one-time code.",
    },
    "worker_code": {
        "zh": "网格员编码不能用来绑定。请向网格员要一个您自己的一次性绑定码（8位数字）。",
        "en": "A grid worker's code cannot link an account. Please ask your grid worker for your own one-time code "
        "(8 digits).",
    },
    "too_many": {"zh": "尝试次数过多，请稍后再试。", "en": "Too many tries; please try again later."},
    "text_only": {"zh": "请用文字回复。", "en": "Please answer in text."},
    "too_long": {
        "zh": "消息太长了，请简短回答（{limit}字以内）。",
        "en": "That message is too long; please answer briefly (at most {limit} characters).",
    },
    "ack": {"zh": "已收到您的确认，谢谢！", "en": "Thank you, your receipt is recorded."},
    "busy": {"zh": "系统繁忙，请稍后再发一次。", "en": "The system is busy; please send that again in a moment."},
    "choose": {"zh": "（回复数字即可）", "en": "(reply with the number)"},
    "handoff": {"zh": "网格员{name}：{phone}", "en": "Grid worker {name}: {phone}"},
}


def say(key: str, language: str | None = None, **values: object) -> str:
    """The text ``key`` in ``language`` (``None``: Chinese, then English on the next line)."""
    entry = _TEXTS[key]
    if language in entry:
        return entry[language].format(**values)
    if language is not None and language != "zh":
        return entry["en"].format(**values)
    if language == "zh":
        return entry["zh"].format(**values)
    return entry["zh"].format(**values) + "\n" + entry["en"].format(**values)
