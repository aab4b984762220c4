"""The grid the dialogue-stack tests run in: one street, community and grid (``T01``) with its grid worker."""

from __future__ import annotations

from typing import Any

__all__ = ["seed_one_grid"]


def seed_one_grid(store: Any) -> None:
    """Create grid ``T01`` (测试网格) and its grid worker 王网格, whom residents added to ``T01`` belong to."""
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "T01", "测试网格")
    store.add_grid_worker("T01", "王网格", "+8613800138000", "zh")
