"""Aggregates for staff: per-grid progress and risk, computed in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select

from gridreach.db.models import Community, Grid, Household, Resident, Submission
from gridreach.store._base import StoreBase
from gridreach.views import GridSummary

__all__ = ["ReportsMixin"]

# best status wins when a resident has several submissions
_STATUS_RANK = {"complete": 4, "partial": 3, "in_progress": 2, "abandoned": 1}
_RISK_RANK = {"high": 3, "moderate": 2, "low": 1}


def _rank(column: Any, ranks: dict[str, int]) -> Any:
    return case(*[(column == name, rank) for name, rank in ranks.items()], else_=0)


def _count_where(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class ReportsMixin(StoreBase):
    def grid_summary(
        self, campaign_ids: list[int] | None = None, grid_codes: list[str] | None = None
    ) -> list[GridSummary]:
        """Per grid: residents, how far each got (best submission status), who was not
        reached, and risk counts. ``campaign_ids=None`` counts every submission."""
        per_resident = select(
            Submission.resident_id.label("resident_id"),
            func.max(_rank(Submission.status, _STATUS_RANK)).label("best"),
            func.max(_rank(Submission.risk_level, _RISK_RANK)).label("risk"),
        ).group_by(Submission.resident_id)
        if campaign_ids is not None:
            per_resident = per_resident.where(Submission.campaign_id.in_(list(campaign_ids)))
        per = per_resident.subquery("per_resident")

        columns = [_count_where(per.c.best == rank) for rank in _STATUS_RANK.values()]
        risks = [_count_where(per.c.risk == rank) for rank in _RISK_RANK.values()]
        not_reached = _count_where(and_(Resident.id.isnot(None), per.c.resident_id.is_(None)))
        query = (
            select(
                Grid.code, Grid.name, Community.name, func.count(Resident.id), *columns, not_reached, *risks
            )
            .select_from(Grid)
            .join(Community, Community.id == Grid.community_id)
            .outerjoin(Household, Household.grid_id == Grid.id)
            .outerjoin(Resident, Resident.household_id == Household.id)
            .outerjoin(per, per.c.resident_id == Resident.id)
            .group_by(Grid.id, Grid.code, Grid.name, Community.name)
            .order_by(Grid.code)
        )
        if grid_codes is not None:
            query = query.where(Grid.code.in_(list(grid_codes)))
        with self._read() as session:
            result = []
            for row in session.execute(query).all():
                (
                    code,
                    name,
                    community,
                    residents,
                    complete,
                    partial,
                    in_progress,
                    abandoned,
                    missing,
                    *risk,
                ) = row
                result.append(
                    GridSummary(
                        grid_code=code,
                        grid_name=name,
                        community_name=community,
                        residents=int(residents),
                        complete=int(complete),
                        partial=int(partial),
                        in_progress=int(in_progress),
                        abandoned=int(abandoned),
                        not_reached=int(missing),
                        risk=dict(zip(_RISK_RANK, (int(n) for n in risk), strict=True)),
                    )
                )
            return result
