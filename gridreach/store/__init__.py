"""``Store``: the storage service the rest of GridReach calls.

It hides SQLAlchemy: methods take plain values, return frozen views from
``gridreach.views``, run each in its own transaction, and raise ``gridreach.errors``.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from gridreach.db import migrate as _migrate
from gridreach.db.engine import make_engine
from gridreach.store.channels import ChannelsMixin
from gridreach.store.geography import GeographyMixin
from gridreach.store.outreach import OutreachMixin
from gridreach.store.reports import ReportsMixin
from gridreach.store.residents import ResidentsMixin
from gridreach.store.retention import RetentionMixin
from gridreach.store.submissions import SubmissionsMixin

__all__ = ["Store"]


class Store(GeographyMixin, ResidentsMixin, SubmissionsMixin, OutreachMixin, ChannelsMixin, ReportsMixin,
            RetentionMixin):
    """All reads and writes of GridReach data. Build with ``Store.from_url`` or ``Store(engine)``."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(make_engine(url))

    def migrate(self) -> None:
        """Bring the schema to the latest version (``alembic upgrade head``)."""
        _migrate.upgrade(self._engine)

    def close(self) -> None:
        """Release pooled connections."""
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self._engine.url!r})"
