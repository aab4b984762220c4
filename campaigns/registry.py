"""Load the questionnaires and register each version with the resident database.

Registration stores each definition with its content hash, so answers always point at the exact questionnaire
they were given under, and a definition edited without a version bump is refused at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from campaigns.loader import load_directory
from campaigns.questionnaire import Questionnaire

__all__ = ["QuestionnaireRegistry", "load_and_register"]


class QuestionnaireRegistry(Protocol):
    """What registration needs of the store (``gridreach.store.Store`` has it)."""

    def register_questionnaire(
        self, questionnaire_id: str, version: int, content_hash: str, title: str, definition: dict[str, Any]
    ) -> bool: ...


def load_and_register(store: QuestionnaireRegistry, directory: Path) -> dict[str, Questionnaire]:
    """Every questionnaire in ``directory``, each registered (a no-op when already there, unchanged)."""
    questionnaires = load_directory(directory)
    for q in questionnaires.values():
        store.register_questionnaire(q.id, q.version, q.content_hash, q.title.get("zh", q.id), q.to_dict())
    return questionnaires
