"""Phone numbers: normalise to E.164, mask for display."""

from __future__ import annotations

import phonenumbers

__all__ = ["mask_phone", "normalize_phone"]


def normalize_phone(text: str, default_region: str = "CN") -> str:
    """Return ``text`` as an E.164 number (``+8613800138000``).

    Accepts the usual ways people write numbers: ``138 0013 8000``,
    ``+86 138-0013-8000``, ``008613800138000``. Raises ``ValueError`` saying why a
    number is refused (the message does not repeat the number).
    """
    if not isinstance(text, str):
        raise ValueError("phone number must be text")
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("phone number is empty")
    try:
        number = phonenumbers.parse(cleaned, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({_parse_reason(exc)})") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("phone number has the wrong length")
    if not phonenumbers.is_valid_number(number):
        raise ValueError("phone number is not valid for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str | None) -> str:
    """Hide the middle digits: ``+8613800138000`` → ``+86138****8000``."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= 6:
        return "*" * len(digits)
    keep_tail = 4
    keep_head = min(6, max(2, len(digits) - keep_tail - 4))
    hidden = len(digits) - keep_head - keep_tail
    return digits[:keep_head] + "*" * hidden + digits[-keep_tail:]


def _parse_reason(exc: phonenumbers.NumberParseException) -> str:
    reasons = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "contains no number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(exc.error_type, "unparseable")
