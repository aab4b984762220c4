"""Shared plumbing of the Store mixins: engine, transactions, error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gridreach.db.engine import session_scope
from gridreach.db.models import AuditLog, Grid, utcnow
from gridreach.errors import GridReachError, NotFound, StorageError


def aware(value: datetime | None) -> datetime | None:
    """Datetimes come back naive from SQLite: they are UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def aware_now(value: datetime | None) -> datetime:
    result = aware(value)
    return result if result is not None else utcnow()


class StoreBase:
    """Owns the engine; each public Store method runs in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return str(self._engine.dialect.name)

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._translate(), session_scope(self._engine) as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._translate(), session_scope(self._engine, write=True) as session:
            yield session

    @staticmethod
    @contextmanager
    def _translate() -> Iterator[None]:
        try:
            yield
        except GridReachError:
            raise
        except SQLAlchemyError as exc:
            raise StorageError(f"database error: {type(exc).__name__}") from exc

    @staticmethod
    def _grid_id(session: Session, grid_code: str) -> int:
        grid_id = session.execute(select(Grid.id).where(Grid.code == grid_code)).scalar_one_or_none()
        if grid_id is None:
            raise NotFound(f"unknown grid {grid_code!r}")
        return int(grid_id)

    @staticmethod
    def _get(session: Session, model: Any, ident: int, what: str) -> Any:
        row = session.get(model, ident)
        if row is None:
            raise NotFound(f"unknown {what} {ident}")
        return row

    @staticmethod
    def _audit(
        session: Session,
        actor: str,
        action: str,
        target_type: str,
        target_id: object,
        detail: dict[str, Any] | None = None,
    ) -> None:
        session.add(
            AuditLog(
                actor=actor,
                action=action,
                target_type=target_type,
                target_id=None if target_id is None else str(target_id),
                detail=detail,
            )
        )
