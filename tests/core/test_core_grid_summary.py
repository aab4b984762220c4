"""Store.grid_summary: per-grid progress and risk counts."""

from __future__ import annotations

from typing import Any

from gridreach.views import NewResident


def _people(store: Any, grid: str, count: int, start: int) -> list[int]:
    rows = [
        NewResident(grid, f"{n // 3}栋", f"居民{n}", f"+86139{n:08d}") for n in range(start, start + count)
    ]
    return list(store.add_residents(rows))


def test_grid_summary_counts(geo: Any) -> None:
    g1 = _people(geo, "G01", 7, 0)
    g2 = _people(geo, "G02", 3, 100)
    geo.register_questionnaire("health", 1, "h", "健康排查", {})
    c1 = geo.create_campaign("day 1", "G01", "health", 1, "staff")
    c2 = geo.create_campaign("day 2", "G01", "health", 1, "staff")

    def submit(resident: int, campaign: int | None, status: str, risk: str | None) -> None:
        sub = geo.start_submission(resident, "health", 1, campaign, "voice", "zh")
        if status != "in_progress":
            geo.finish_submission(sub, status, risk)

    submit(g1[0], c1, "complete", "high")
    submit(g1[1], c1, "complete", "low")
    submit(g1[2], c1, "partial", "moderate")
    submit(g1[3], c1, "in_progress", None)
    submit(g1[4], c1, "abandoned", None)
    submit(g1[4], c2, "complete", "moderate")  # reached again the next day
    submit(g2[0], c2, "complete", "low")

    by_grid = {s.grid_code: s for s in geo.grid_summary([c1])}
    s1 = by_grid["G01"]
    counts = (s1.residents, s1.complete, s1.partial, s1.in_progress, s1.abandoned, s1.not_reached)
    assert counts == (7, 2, 1, 1, 1, 2)
    assert s1.risk == {"high": 1, "moderate": 1, "low": 1}
    assert (s1.grid_name, s1.community_name) == ("第一网格", "幸福社区")
    assert (by_grid["G02"].residents, by_grid["G02"].not_reached, by_grid["G02"].complete) == (3, 3, 0)
    assert by_grid["G09"].residents == 0 and by_grid["G09"].not_reached == 0

    both = {s.grid_code: s for s in geo.grid_summary([c1, c2])}["G01"]
    # resident 4: abandoned in c1, complete in c2 → counted once, as complete
    assert (both.complete, both.abandoned, both.not_reached) == (3, 0, 2)
    assert both.risk == {"high": 1, "moderate": 2, "low": 1}
    for s in geo.grid_summary():
        assert s.complete + s.partial + s.in_progress + s.abandoned + s.not_reached == s.residents

    everything = {s.grid_code: s for s in geo.grid_summary()}
    assert everything["G02"].complete == 1
    only = geo.grid_summary(grid_codes=["G02"])
    assert [s.grid_code for s in only] == ["G02"]
    none = {s.grid_code: s for s in geo.grid_summary([])}
    assert none["G01"].not_reached == 7
