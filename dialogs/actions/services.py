"""What the custom actions need, made once per action-server process on first use (never at import)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from campaigns import QUESTIONNAIRE_DIR, Questionnaire
from campaigns.normalize import detect_language
from campaigns.registry import load_and_register
from gridreach.identity import parse_sender_id
from gridreach.settings import Settings
from gridreach.store import Store
from gridreach.views import ResidentView

__all__ = ["QUESTIONNAIRE_DIR", "Services", "services"]

log = logging.getLogger(__name__)


@dataclass
class Services:
    """The resident database and the questionnaires, shared by every action."""

    store: Store
    questionnaires: dict[str, Questionnaire]
    settings: Settings

    def questionnaire(self, questionnaire_id: str) -> Questionnaire | None:
        return self.questionnaires.get(questionnaire_id)

    def resident_for(self, sender_id: str) -> ResidentView | None:
        """The resident a sender id names, or None for an unknown or unbound person."""
        try:
            sender = parse_sender_id(sender_id)
        except ValueError:
            return None
        if sender.resident_id is not None:
            return self.store.get_resident(sender.resident_id)
        assert sender.channel is not None and sender.external_id is not None
        return self.store.resident_by_identity(sender.channel, sender.external_id)

    def language_for(self, text: str, current: str | None, resident: ResidentView | None) -> str:
        """The language to answer in: what the resident just wrote in, else what we used, else their record."""
        detected = detect_language(text) if text and not text.startswith("/") else None
        if detected:
            return detected
        if current:
            return current
        if resident is not None and resident.language:
            return resident.language
        return self.settings.default_language

    @staticmethod
    def context_for(resident: ResidentView | None, today_override: Any = None) -> dict[str, Any]:
        """What risk rules and date answers need: the resident's age and today's date.

        ``today_override`` (an ISO date from message metadata) lets recorded conversations be replayed
        exactly; channels never take it from residents.
        """
        today = date.fromisoformat(str(today_override)) if today_override else date.today()
        age = today.year - resident.birth_year if resident and resident.birth_year else None
        return {"age": age, "today": today}


_BUILDING = threading.Lock()


def services() -> Services:
    """The services of this process, built once (actions run in several worker threads)."""
    with _BUILDING:
        return _build()


@lru_cache(maxsize=1)
def _build() -> Services:
    """Build the services from the environment; questionnaires are registered with their content hash."""
    settings = Settings.from_env()
    store = Store.from_url(settings.database_url)
    questionnaires = load_and_register(store, QUESTIONNAIRE_DIR)
    log.info("action services ready: %d questionnaires", len(questionnaires))
    return Services(store=store, questionnaires=questionnaires, settings=settings)
