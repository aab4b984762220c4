"""The Official Account's own fixed texts (binding, refusals, receipts), in Chinese and English.

Residents not yet bound get both languages; bound residents get their own.
"""

from __future__ import annotations

__all__ = ["say"]

_TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "zh": "欢迎关注社区网格服务号。请发送您登记的手机号和网格员给您的绑定码（8位数字，或网格员的6位编码），"
        "例如：13800138000 12345678",
        "en": "Welcome to your community grid's account. Please send the phone number you registered and the code "
        "from your grid worker (8 digits, or the grid worker's 6-character code), e.g. 13800138000 12345678",
    },
    "welcome_back": {"zh": "欢迎回来，{name}。", "en": "Welcome back, {name}."},
    "bind_first": {
        "zh": "请先绑定：发送您登记的手机号和网格员给您的绑定码，例如：13800138000 12345678",
        "en": "Please link your account first: send your registered phone number and the code from your grid "
        "worker, e.g. 13800138000 12345678",
    },
    "bound": {
        "zh": "绑定成功：{name}（{phone}）。有排查时点击菜单“健康排查”即可回答。",
        "en": "Linked: {name} ({phone}). When there is a screening, tap the menu to answer.",
    },
    "bad_phone": {"zh": "手机号格式不对，请检查后再发一次。", "en": "That phone number does not look right."},
    "unknown": {"zh": "绑定码不正确，请向网格员确认。", "en": "That code is not right; please ask your grid worker."},
    "used": {"zh": "这个绑定码已经用过了，请向网格员要一个新的。", "en": "That code was already used; ask for a new one."},
    "expired": {"zh": "这个绑定码已过期，请向网格员要一个新的。", "en": "That code has expired; ask for a new one."},
    "mismatch": {
        "zh": "手机号与网格员的登记不一致，请向网格员确认。",
        "en": "The phone number does not match your grid worker's records; please ask them.",
    },
    "already_bound": {
        "zh": "这个手机号已经绑定了另一个微信号。如需更换，请向网格员要一个一次性绑定码。",
        "en": "This phone number is already bound to another WeChat account; ask your grid worker for a one-time code.",
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
