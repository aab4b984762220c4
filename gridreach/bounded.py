"""``BoundedDict``: per-person state a process may keep in memory, never more than ``limit`` entries.

What must survive a restart lives in the database; what only helps while a process runs (which buttons are live in
a chat, the numbered options just shown) may live here, bounded: the least recently set entries go first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

__all__ = ["BoundedDict"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedDict(OrderedDict[K, V]):
    """An ``OrderedDict`` that keeps only its ``limit`` most recently set keys."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)
