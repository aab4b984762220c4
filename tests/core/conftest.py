"""Fixtures for the core tests: a store with a small geography."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

WORKER_PHONE = "+8613800138000"


@pytest.fixture
def geo(store: Any) -> Any:
    """The ``store`` with grids G01, G02 (幸福社区) and G09 (another community); G01 has a worker."""
    store.ensure_grid("HPJD", "和平街道", "XF", "幸福社区", "G01", "第一网格")
    store.ensure_grid("HPJD", "和平街道", "XF", "幸福社区", "G02", "第二网格")
    store.ensure_grid("HPJD", "和平街道", "AK", "安康社区", "G09", "第九网格")
    store.add_grid_worker("G01", "王秀英", "138 0013 8000", "zh")
    return store


@pytest.fixture
def resident_id(geo: Any) -> int:
    return int(geo.add_resident("G01", "1栋101室", "李明", "139 0013 9000", 1950, "zh"))


def _run_together(count: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run ``fn(i)`` in ``count`` threads released at the same moment; return the results."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


@pytest.fixture
def run_together() -> Callable[[int, Callable[[int], Any]], list[Any]]:
    return _run_together
