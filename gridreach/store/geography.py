"""Streets, communities, grids and grid workers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridreach.db.models import Community, Grid, GridWorker, Street
from gridreach.phones import normalize_phone
from gridreach.settings import LANGUAGES
from gridreach.store._base import StoreBase
from gridreach.views import GridView, GridWorkerView

__all__ = ["GeographyMixin"]


class GeographyMixin(StoreBase):
    def ensure_grid(
        self,
        street_code: str,
        street_name: str,
        community_code: str,
        community_name: str,
        grid_code: str,
        grid_name: str,
    ) -> int:
        """Create (or rename) street → community → grid; return the grid's id."""
        with self._write() as session:
            street = _upsert(session, Street, street_code, street_name)
            community = _upsert(session, Community, community_code, community_name, street_id=street.id)
            grid = _upsert(session, Grid, grid_code, grid_name, community_id=community.id)
            return int(grid.id)

    def add_grid_worker(self, grid_code: str, name: str, phone: str, language: str = "zh") -> int:
        """Add a grid worker (same grid + phone again updates name and language)."""
        e164 = normalize_phone(phone)
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        with self._write() as session:
            grid_id = self._grid_id(session, grid_code)
            worker = session.execute(
                select(GridWorker).where(GridWorker.grid_id == grid_id, GridWorker.phone == e164)
            ).scalar_one_or_none()
            if worker is None:
                worker = GridWorker(grid_id=grid_id, name=name, phone=e164, language=language)
                session.add(worker)
            else:
                worker.name, worker.language = name, language
            session.flush()
            return int(worker.id)

    def grid_worker_for(self, grid_code: str) -> GridWorkerView | None:
        """The grid's worker (the first one added), or None."""
        with self._read() as session:
            row = session.execute(
                select(GridWorker)
                .join(Grid, Grid.id == GridWorker.grid_id)
                .where(Grid.code == grid_code)
                .order_by(GridWorker.id)
                .limit(1)
            ).scalar_one_or_none()
            if row is None:
                return None
            return GridWorkerView(row.id, grid_code, row.name, row.phone, row.language)

    def grids(self) -> list[GridView]:
        """Every grid with its community and street, ordered by code."""
        with self._read() as session:
            rows = session.execute(
                select(Grid.code, Grid.name, Community.code, Community.name, Street.code, Street.name)
                .join(Community, Community.id == Grid.community_id)
                .join(Street, Street.id == Community.street_id)
                .order_by(Grid.code)
            ).all()
            return [GridView(*row) for row in rows]


def _upsert(session: Session, model: Any, code: str, name: str, **parent: int) -> Any:
    row = session.execute(select(model).where(model.code == code)).scalar_one_or_none()
    if row is None:
        row = model(code=code, name=name, **parent)
        session.add(row)
        session.flush()
        return row
    row.name = name
    for key, value in parent.items():
        setattr(row, key, value)
    return row
