"""Errors of the campaigns package.

``DefinitionError(path, line, reason)`` is the core's (``gridreach.errors``), so that a bad
questionnaire is one branch of the project's single error tree; its str is ``path:line: reason``.
``ExprError`` is internal: the loader turns it into a located DefinitionError.
"""

from __future__ import annotations

from gridreach.errors import DefinitionError

__all__ = ["DefinitionError", "ExprError"]


class ExprError(ValueError):
    """An expression is not valid in the questionnaire expression language."""
