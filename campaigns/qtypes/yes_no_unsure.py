"""``yes_no_unsure``: yes / no / not sure; keypad 1 yes, 2 no, 3 not sure."""

from __future__ import annotations

from typing import ClassVar

from campaigns.qtypes import register
from campaigns.qtypes.yes_no import YesNo

__all__ = ["YesNoUnsure"]


class YesNoUnsure(YesNo):
    name = "yes_no_unsure"
    values: ClassVar[tuple[str, ...]] = ("yes", "no", "not_sure")


register(YesNoUnsure())
