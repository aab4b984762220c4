"""gridreach.bounded.BoundedDict: in-memory per-person state never grows past its limit."""

from __future__ import annotations

import pytest

from gridreach.bounded import BoundedDict


def test_the_least_recently_set_entries_go_first() -> None:
    seen: BoundedDict[int, str] = BoundedDict(3)
    for chat in range(10_000):
        seen[chat] = f"q{chat}"
    assert list(seen) == [9997, 9998, 9999]
    seen[9997] = "again"  # set again: now the most recent
    seen[1] = "new"
    assert list(seen) == [9999, 9997, 1]
    assert seen.setdefault(2, "x") == "x" and len(seen) == 3 and 9999 not in seen
    assert seen.pop(1) == "new" and len(seen) == 2


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BoundedDict(0)
