"""The one error tree of GridReach.

::

    GridReachError
    ├── ConfigError(key, reason)          a setting is missing or has a bad value
    ├── StorageError                      the database failed or refused an operation
    │   ├── NotFound                      a referenced row does not exist
    │   └── QuestionnaireVersionConflict  same questionnaire id + version, different content
    ├── DefinitionError(path, line, reason)  a campaign / questionnaire file is wrong
    ├── ImportFileError                   a resident or geography file cannot be read
    └── LinkCodeError(reason)             a one-time binding code is unknown, used or expired

Vendor exceptions (SQLAlchemy, openpyxl, YAML, ...) are translated into these at the
module that adapts the vendor; callers catch ``GridReachError`` or one of its children.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DefinitionError",
    "GridReachError",
    "GroupConflict",
    "ImportFileError",
    "LinkCodeError",
    "NotFound",
    "QuestionnaireVersionConflict",
    "StorageError",
]


class GridReachError(Exception):
    """Root of every error GridReach raises on purpose."""


class ConfigError(GridReachError):
    """A setting is missing or invalid; ``key`` names it (never its secret value)."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


class StorageError(GridReachError):
    """The database failed, or refused an operation."""


class NotFound(StorageError):
    """A referenced row (grid, resident, submission, ...) does not exist."""


class GroupConflict(StorageError):
    """A chat group is bound to another grid; only an administrator may move it (``grid`` names that grid)."""

    def __init__(self, grid: str) -> None:
        self.grid = grid
        super().__init__(f"the group is bound to grid {grid}; ask that grid's worker or an administrator")


class QuestionnaireVersionConflict(StorageError):
    """A questionnaire id + version is already registered with different content."""


class DefinitionError(GridReachError):
    """A definition file (questionnaire, campaign, notice) is invalid at ``path:line``."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class ImportFileError(GridReachError):
    """An import file is unreadable, malformed, or lacks required columns."""


class LinkCodeError(GridReachError):
    """A one-time code a resident typed cannot bind them: ``reason`` is ``unknown``, ``used`` or ``expired``."""

    REASONS = ("unknown", "used", "expired")

    def __init__(self, reason: str) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown link code failure {reason!r}")
        self.reason = reason
        super().__init__(f"link code {reason}")
