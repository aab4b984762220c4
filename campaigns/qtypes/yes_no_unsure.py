"""``yes_no_unsure``: yes / no / not sure; keypad 1 yes, 2 no, 3 not sure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from campaigns.qtypes import register
from campaigns.qtypes.yes_no import YesNo

__all__ = ["YesNoUnsure"]


class YesNoUnsure(YesNo):
    name = "yes_no_unsure"
    values: ClassVar[tuple[str, ...]] = ("yes", "no", "not_sure")
    reprompts: ClassVar[Mapping[str, str]] = {"zh": "请回答有、没有，或者不确定。", "en": "Please answer yes, no, or not sure.",
                 "ko": "네, 아니요, 또는 모르겠어요로 대답해 주세요."}


register(YesNoUnsure())
