from __future__ import annotations

import pytest

from gridreach.phones import mask_phone, normalize_phone


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "138 0013 8000",
        "+86 138-0013-8000",
        "008613800138000",
        " +8613800138000 ",
        "86-138-0013-8000",
    ],
)
def test_mainland_mobile_forms(text: str) -> None:
    assert normalize_phone(text) == "+8613800138000"


def test_landline_and_foreign_numbers() -> None:
    assert normalize_phone("010 6552 9988") == "+861065529988"
    assert normalize_phone("+82 10-2345-6789") == "+821023456789"
    assert normalize_phone("202-555-0143", default_region="US") == "+12025550143"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "not a phone number"),
        ("12345", "not valid"),
        ("1380013800012345", "wrong length"),
        ("12800138000", "not valid"),
    ],
)
def test_invalid_numbers_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        normalize_phone(text)
    assert reason in str(info.value)


def test_mask_phone_hides_middle_digits() -> None:
    assert mask_phone("+8613800138000") == "+86138****8000"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("") == ""
